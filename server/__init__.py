"""The central server: Litestar app, sync endpoints, HQ REST API, database wiring."""
