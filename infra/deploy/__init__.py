"""`make deploy STAGE=dev|prod`: back up, apply, release behind a `live` alias, upload the panel,
check, roll back.

Each step is a small function in its own module, so the parts that need AWS (aliases, backups,
the panel's files) are tested against the emulator and the part that needs Terraform sits behind
one seam:

- `backup.py`     an on-demand DynamoDB backup of every table of the stage, before anything changes
- `terraform.py`  `chalice package --pkg-format terraform` merged with `infra/terraform/*.tf`, then
                  `terraform init` + `apply` (the `Terraform` class is the seam tests replace)
- `release.py`    publish a version of every function, move its `live` alias there; roll back
- `panel.py`      build web/, upload web/build to the panel bucket (cache headers, stale files
                  last), invalidate /index.html; put the previous files back
- `smoke.py`      `GET /api/v1/health/detailed` on the deployed API and the panel's URL, with retries
- `__main__.py`   the order of the steps and the command line
- `localstack.py` `make test-localstack`: the integration suite against a LocalStack endpoint
"""
