# Targets for people and CI. `make help` lists them.

CARGO_TARGET_DIR ?= $(HOME)/.cache/idp-target
export CARGO_TARGET_DIR
PSQL ?= psql -h 127.0.0.1 -U postgres -d postgres -qtA

.PHONY: help run run-release test validate-deploy lint fmt fmt-check check-deps check-unused bench bench-quick clean-test-dbs openapi fuzz fuzz-quick

help: ## List the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-16s %s\n", $$1, $$2}'

run: ## Build and start the whole platform (embedded default: SQLite under ./data, in-process bus, gateway on 127.0.0.1:8080)
	cargo run --bin platform

run-release: ## The same, optimized
	cargo run --release --bin platform

test: clean-test-dbs ## Run every test of the workspace (PostgreSQL and RabbitMQ tests skip with a message when those are absent, never in CI), then validate the Kubernetes manifests and fuzz the API (scripts/fuzz)
	cargo test --workspace --all-targets --no-fail-fast
	$(MAKE) --no-print-directory validate-deploy
	$(MAKE) --no-print-directory fuzz-quick

openapi: ## Regenerate the OpenAPI documents in proto-docs/openapi from the code (a test fails when they drift)
	cargo run --quiet -p idp-openapi -- proto-docs/openapi

fuzz: ## Fuzz the API with schemathesis through the gateway against its OpenAPI documents (FUZZ_EXAMPLES per operation, default 50)
	FUZZ_EXAMPLES=$${FUZZ_EXAMPLES:-50} scripts/fuzz

fuzz-quick: ## The fuzzing of `make test`: a few examples per operation (skips outside CI when python3/pip is missing)
	FUZZ_EXAMPLES=$${FUZZ_EXAMPLES:-5} scripts/fuzz

validate-deploy: ## Validate deploy/ against the Kubernetes schemas (offline) and the gateway's route table
	@if command -v python3 >/dev/null 2>&1; then python3 scripts/validate-deploy; \
	elif [ "$$CI" = "true" ]; then echo "python3 is required in CI"; exit 1; \
	else echo "SKIPPED: python3 not available; deploy/ not validated"; fi

lint: fmt-check check-deps check-unused ## What CI checks besides the tests: formatting, clippy, the gateway's dependency rule, unused dependencies
	cargo clippy --workspace --all-targets -- -D warnings

fmt-check:
	cargo fmt --all -- --check

fmt: ## Format the code
	cargo fmt --all

check-unused: ## No crate declares a dependency it does not use (cargo-machete; .ci/run installs it)
	@if command -v cargo-machete >/dev/null 2>&1; then cargo machete; \
	elif [ "$$CI" = true ]; then echo "cargo-machete is required in CI (cargo install --locked cargo-machete)"; exit 1; \
	else echo "SKIPPED: cargo-machete not installed (cargo install --locked cargo-machete)"; fi

check-deps: ## The gateway must never depend on the database layer
	@if cargo tree -p idp-gateway -e normal -i sea-orm >/dev/null 2>&1; then \
		echo "the gateway depends on sea-orm"; exit 1; \
	else echo "gateway: no sea-orm dependency"; fi

bench: ## Benchmarks against real peers; writes proto-docs/benchmarks/latest.{md,json}
	scripts/bench

bench-quick: ## The benchmarks in quick mode (under 2 minutes)
	BENCH_QUICK=1 scripts/bench

clean-test-dbs: ## Drop the per-test PostgreSQL databases and RabbitMQ queues/streams (idp.test.*) of earlier runs
	@if command -v psql >/dev/null 2>&1 && $(PSQL) -c 'select 1' >/dev/null 2>&1; then \
		for db in $$($(PSQL) -c "select datname from pg_database where datname like 'idp\_test\_%'"); do \
			$(PSQL) -c "drop database if exists $$db" >/dev/null 2>&1 || true; \
		done; \
	fi
	@# Each test's revocation stream outlives it; hundreds of them make RabbitMQ
	@# refuse new streams ("does not have a replica on the local node").
	@# One call deletes them all (a rabbitmqctl per queue takes a second each);
	@# the loop is the fallback where eval is refused.
	@if command -v rabbitmqctl >/dev/null 2>&1; then \
		timeout 60 rabbitmqctl eval '[rabbit_amqqueue:delete(Q, false, false, <<"make">>) || Q <- rabbit_amqqueue:list(), binary:match(element(4, amqqueue:get_name(Q)), <<"idp.test.">>) =:= {0,9}], ok.' >/dev/null 2>&1 || \
		for q in $$(timeout 30 rabbitmqctl list_queues -q name 2>/dev/null | grep '^idp\.test\.'); do \
			timeout 10 rabbitmqctl delete_queue -q "$$q" >/dev/null 2>&1 || true; \
		done; \
	fi
