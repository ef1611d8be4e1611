"""Sign-in and authorization at headquarters: the service behind ``/api/v1/auth`` and
``/api/v1/admin``, and the guard every HQ route passes through.

- ``service``: sign-in with lockout, expiring tokens, user and role administration.
- ``guard``: checks the permission each route declares in its ``opt``.

The rules (permission catalog, built-in roles, password hashing) are in ``erp/access``; see
docs/security.md for the model as a whole.
"""
