"""One module per Lambda function, each a Chalice Blueprint registered by app.py.

Lambda imports an event function by the handler string Chalice generates for blueprints
(`functions.ingest.ingest`), never app.py. Importing the app here is what registers the blueprints
and so attaches the app's middleware (logging, metrics) to that function too.
"""

import app  # noqa: F401
