"""Manufacturing: material requirements planning (MRP), and later BOMs, work centres and work orders.

For now the module holds the pure planning calculator and what it needs:

- ``working_calendar``: working days of a plant or work centre (weekdays, holidays and the
  make-up working days of 调休), and lead-time offsets on them;
- ``lot_sizing``: lot-for-lot, fixed quantity, minimum and multiple;
- ``low_level_codes``: the BOM levels that order the run, and BOM cycle detection;
- ``planning_data``: the run's typed inputs, checked and indexed before planning;
- ``mrp``: the regenerative MRP run, from typed inputs to planned purchase and work orders;
- ``pegging``: what each planned order covers, and the trace down to the end demand;
- ``errors``: stable error codes, and the typed errors that carry them.

None of it does I/O: a service reads the master data and open documents, calls ``run_mrp`` and
stores the result. The module has no tables yet, hence no ``MODULE`` manifest.
"""
