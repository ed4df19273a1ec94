# The two commands a newcomer needs: `make run` and `make test`. Everything else is a helper.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 8000
# Development defaults; production sets DEBUG=false and SECRET_KEY (see README).
export DEBUG ?= true

.PHONY: run test install migrate demo serve worker lint format check-deploy bench bench-lineage clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

# Reinstall whenever pyproject.toml changes; the stamp keeps `make run` fast the second time.
$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	touch $@

install: $(VENV)/.installed

migrate: install
	$(BIN)/python manage.py migrate --noinput

demo: migrate
	$(BIN)/python manage.py demo

serve: install
	$(BIN)/python manage.py reap_stale_jobs
	$(BIN)/python manage.py runserver $(HOST):$(PORT)

run: demo serve

test: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports
	$(BIN)/python -m pytest $(PYTEST_ARGS)

worker: install
	$(BIN)/celery -A config worker --loglevel=INFO

lint: install
	$(BIN)/ruff check .

format: install
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

check-deploy: install
	umask 077 && $(BIN)/python -c "import sys; from common.evidence import generate_private_key, private_key_pem; sys.stdout.buffer.write(private_key_pem(generate_private_key()))" > /tmp/registry-check-deploy-key.pem
	DEBUG=false SECRET_KEY="$$($(BIN)/python -c "import secrets; print(secrets.token_urlsafe(50))")" \
		REGISTRY_SIGNING_KEY_FILE=/tmp/registry-check-deploy-key.pem \
		$(BIN)/python manage.py check --deploy --fail-level WARNING; status=$$?; rm -f /tmp/registry-check-deploy-key.pem; exit $$status

# bench/reports.py prints today's figures beside the recorded ones (bench/reports.json) and marks moves > 30%.
bench: install
	$(BIN)/python bench/reports.py
	$(BIN)/python bench/evaluation.py

# Needs DATABASE_URL pointing at a scratch PostgreSQL database.
bench-lineage: install
	$(BIN)/python bench/lineage.py

clean:
	rm -rf $(VENV) var/registry.sqlite3* var/storage
