#!/usr/bin/env bash
# Fuzz the whole OpenAPI schema with schemathesis (pinned in pyproject's dev extras) against a live server on
# PostgreSQL, once with a pipeline token and once with a reviewer token, every check on: no server error, no
# response that breaks the schema, no status code the schema does not document. Bounded: a fixed number of
# examples per operation and a wall-clock limit.
#
#   bash .ci/schemathesis.sh            # needs PostgreSQL (CI_DATABASE_URL) like .ci/run
set -euo pipefail
cd "$(dirname "$0")/.."

PG_URL="${CI_DATABASE_URL:-postgres://postgres@127.0.0.1:5432/test}"
DB_NAME="registry_schemathesis"
PORT="${SCHEMATHESIS_PORT:-8765}"
EXAMPLES="${SCHEMATHESIS_EXAMPLES:-10}"
LIMIT_SECONDS="${SCHEMATHESIS_SECONDS:-300}"
BIN=.venv/bin
WORK="$(mktemp -d)"
SERVER_PID=""

cleanup() {
    if [ -n "$SERVER_PID" ]; then kill "$SERVER_PID" 2>/dev/null || true; wait "$SERVER_PID" 2>/dev/null || true; fi
    rm -rf "$WORK"
}
trap cleanup EXIT

# A database of its own, so the fuzzing never touches the test database.
BASE_URL="${PG_URL%/*}"
psql "$PG_URL" -q -c "DROP DATABASE IF EXISTS $DB_NAME" -c "CREATE DATABASE $DB_NAME" >/dev/null
export DATABASE_URL="$BASE_URL/$DB_NAME"
export DEBUG=false
export SECRET_KEY="schemathesis-$(date +%s)-$RANDOM$RANDOM"
export ALLOWED_HOSTS=127.0.0.1
export SECURE_SSL_REDIRECT=false SESSION_COOKIE_SECURE=false CSRF_COOKIE_SECURE=false SECURE_HSTS_SECONDS=0
export REGISTRY_VAR_DIR="$WORK/var" REGISTRY_DATA_ROOTS="$WORK/data"
unset CELERY_BROKER_URL  # jobs run in the server process: no worker needed for the fuzzing
mkdir -p "$WORK/var" "$WORK/data"
# Production refuses to start without a signing key: a fresh one for this run (PyCA cryptography, as the README says).
$BIN/python -c "import sys; from common.evidence import generate_private_key, private_key_pem; sys.stdout.buffer.write(private_key_pem(generate_private_key()))" >"$WORK/signing-key.pem"
chmod 600 "$WORK/signing-key.pem"
export REGISTRY_SIGNING_KEY_FILE="$WORK/signing-key.pem"

$BIN/python manage.py migrate --noinput -v 0
$BIN/python manage.py demo >/dev/null 2>&1
PIPELINE_TOKEN=$($BIN/python manage.py issue_token fuzz-pipeline --project census-demo --role pipeline --quiet)
REVIEWER_TOKEN=$($BIN/python manage.py issue_token fuzz-reviewer --project census-demo --role reviewer --quiet)

$BIN/gunicorn config.wsgi:application --bind "127.0.0.1:$PORT" --workers 2 --timeout 120 \
    --log-level warning >"$WORK/server.log" 2>&1 &
SERVER_PID=$!
for _ in $(seq 1 30); do
    if curl -fsS "http://127.0.0.1:$PORT/healthz" >/dev/null 2>&1; then break; fi
    sleep 1
done

# Every check runs and its summary is printed. The gate is what issue 13 asks of the API: no server error, no
# response outside the schema (body, status code, content type, headers) and no authentication bypass
# (schemathesis' ST101-ST111 and ST4xx codes). ST112 (a response slower than schemathesis' limit: a source
# revocation re-checks everything downstream in the request on this embedded setup) is timing on a shared
# machine, reported but not gated. Requests the API refuses by rules the schema cannot state (an unknown
# project, a reason that is blank after trimming) or accepts although the schema is stricter show up as
# ST2xx in the summary without failing the step.
status=0
for role in pipeline reviewer; do
    token_var="${role^^}_TOKEN"
    echo "== schemathesis as the $role (at most $EXAMPLES examples per operation, $LIMIT_SECONDS s)"
    NO_COLOR=1 $BIN/schemathesis run "http://127.0.0.1:$PORT/api/schema/" \
        --url "http://127.0.0.1:$PORT" \
        --header "Authorization: Bearer ${!token_var}" \
        --checks all \
        --max-examples "$EXAMPLES" \
        --max-time "$LIMIT_SECONDS" \
        --generation-deterministic \
        --generation-allow-x00 false \
        --no-shrink \
        --workers 2 \
        --request-timeout 60 >"$WORK/$role.log" 2>&1 || true
    sed -n '/^=* SUMMARY =*$/,$p' "$WORK/$role.log"
    if grep -qE "❌ ST(10[0-9]|11[01]|4[0-9][0-9])" "$WORK/$role.log"; then
        echo "== $role: server errors or responses outside the schema; details:"
        grep -E "^_+ [A-Z]+ |ST(10[0-9]|11[01]|4[0-9][0-9])|^\[[0-9]{3}\]|Received:|Documented:" "$WORK/$role.log" | head -200
        status=1
    fi
done
if [ "$status" -ne 0 ]; then
    echo "== server log (last lines):"
    tail -50 "$WORK/server.log"
fi
exit "$status"
