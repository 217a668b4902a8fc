"""A DSMR-reader compatible REST API: the plain-Python logic behind the HTTP views.

Nothing in this package imports Home Assistant or aiohttp. The modules are pure functions on
plain data that reproduce, byte for byte where it matters, what DSMR-reader v5.11 (Django 3.2,
Django REST framework 3.14, django-filter 21.1) does:

- ``auth``: the ``X-AUTHKEY`` / ``Authorization: Token`` key check and key generation;
- ``params``: ``limit``, ``offset``, ``ordering`` and the date/datetime filter parameters;
- ``pagination``: the ``LimitOffsetPagination`` envelope with its ``next``/``previous`` links;
- ``serializers``: decimals as fixed-place strings, local ISO 8601 datetimes, row layouts;
- ``validation``: the ``POST /api/v2/datalogger/dsmrreading`` body check with DRF's messages.
"""
