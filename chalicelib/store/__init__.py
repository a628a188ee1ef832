"""The store: the only code that knows DynamoDB (PynamoDB models) and the bucket's layout calls.

Services and steps read and write records (chalicelib.domain.records) through these objects and
never see a table, a condition expression or its exceptions. Tests may swap one for another
implementation of the same methods (`monkeypatch.setattr(store, "products", ...)`).
"""

from __future__ import annotations

from chalicelib.store.marketplace import Accounts, Cache, Connections
from chalicelib.store.products import Events, Images, ListingVersions, Products
from chalicelib.store.sellers import LoginFailuresStore, Sellers, Sessions

sellers = Sellers()
sessions = Sessions()
login_failures = LoginFailuresStore()
accounts = Accounts()
connections = Connections()
cache = Cache()
products = Products()
images = Images()
versions = ListingVersions()
events = Events()
