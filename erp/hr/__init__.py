"""HR: the company's employees and the personal data kept about them.

Depends on ``org`` (an employee belongs to a site). One table so far:

| table        | kind   | scope | personal fields (permission)                                  |
|--------------|--------|-------|---------------------------------------------------------------|
| hr_employees | master | site  | id_number, phone, bank_account (``hr.view_personal``)         |
|              |        |       | monthly_salary (``hr.view_salary``)                           |

Beyond ``hr.view`` (read the module, replicate its table) and its mutations, the module
declares the two field permissions above. A device replicates ``hr_employees`` only if its role
has ``hr.view``, and receives each personal field only with that field's permission
(``sync/visibility.py``). Manufacturing will refer to these rows (piece-rate pay of operators).
"""

from erp.hr.employee import PERSONAL_FIELDS, VIEW_PERSONAL, VIEW_SALARY, create_employee, hr_employees, update_employee
from sync.registry import ModuleManifest
from sync.specs import ScopeKind, SyncKind, SyncSpec

MODULE = ModuleManifest(
    name="hr",
    description="Employees and the personal data kept about them.",
    depends=("org",),
    mutations=(create_employee, update_employee),
    sync_specs=(
        SyncSpec(hr_employees, SyncKind.MASTER, ScopeKind.SITE, "site_id",
                 mergeable_fields=("name", "id_number", "phone", "bank_account", "monthly_salary", "active"),
                 personal_fields=PERSONAL_FIELDS),
    ),
    permissions={
        VIEW_PERSONAL: "see and change employees' ID numbers, phone numbers and bank accounts",
        VIEW_SALARY: "see and change employees' salaries",
    },
)
