"""The OpenAPI schema of the whole REST API generates and validates without warnings."""

import yaml
from django.core.management import call_command


def test_openapi_schema_validates_without_warnings(tmp_path):
    target = tmp_path / "schema.yml"
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(target))
    schema = yaml.safe_load(target.read_text())
    paths = schema["paths"]
    for path in ["/api/v1/versions", "/api/v1/listings/{key}/deploys", "/api/v1/sites/{id}/updates"]:
        assert any(p.rstrip("/") == path.rstrip("/") for p in paths), path
    operation_ids = [op["operationId"] for item in paths.values() for op in item.values() if isinstance(op, dict)]
    assert len(operation_ids) == len(set(operation_ids))
