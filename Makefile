# Everything from a fresh clone on Debian: `make demo` and `make test` set themselves up.
PY      ?= python3
VENV    := .venv
BIN     := $(VENV)/bin
STAMP   := $(VENV)/.installed-stamp
# Debian packages, as root: apt-get update + install, waiting for another apt's lock (.ci/apt-install).
APT_INSTALL := .ci/apt-install

.PHONY: all venv test lint unit mosquitto browser-test demo bench bench-fleet clean image image-release image-test

all: test

# The venv, with the project and its dev tools; rebuilt when pyproject.toml changes.
$(STAMP): pyproject.toml
	@$(PY) -c 'import ensurepip, venv' 2>/dev/null || { \
	  if [ "$$(id -u)" = 0 ]; then $(APT_INSTALL) python3-venv; \
	  else echo "python3-venv is missing: sudo apt-get install python3-venv" >&2; exit 1; fi; }
	$(PY) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[dev]'
	@touch $(STAMP)

venv: $(STAMP)

lint: venv
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

# The fleet tests run a real broker: Debian's mosquitto (installed here as root if missing).
mosquitto:
	@[ -x /usr/sbin/mosquitto ] || { \
	  if [ "$$(id -u)" = 0 ]; then $(APT_INSTALL) mosquitto; \
	  else echo "Debian's mosquitto is missing: sudo apt-get install mosquitto" >&2; exit 1; fi; }

unit: venv mosquitto
	$(BIN)/python -m pytest -q --ignore=tests/browser --ignore=tests/image

# The admin page in headless Chromium (Debian's package; installed here as root if missing).
browser-test: venv
	@[ -x /usr/bin/chromium ] || { \
	  if [ "$$(id -u)" = 0 ]; then $(APT_INSTALL) chromium; \
	  else echo "Debian's chromium is missing: sudo apt-get install chromium" >&2; exit 1; fi; }
	$(BIN)/python -m pytest -q tests/browser

test: lint unit

demo: venv
	$(BIN)/doorward demo

bench: venv mosquitto
	$(BIN)/python -m bench

# Only the fleet section: revocation across 50 boxes, events home, catch-up after 10,000 changes.
bench-fleet: venv mosquitto
	$(BIN)/python -m bench fleet

# The SD card image (image-build/README.md): image-build/out/doorward-<version>-<commit>.img. As root;
# installs its host tools if missing. The Debian base layer is cached in ${DOORWARD_IMAGE_CACHE:-/var/cache/doorward-image}.
image: venv
	image-build/build.sh

# The same, plus the .img.xz to publish (xz -T2: minutes).
image-release: venv
	image-build/build.sh --xz

# Build (or reuse the base layer of) the image, check it offline, boot it in QEMU (-M virt and -M raspi3b).
image-test: image
	$(BIN)/python -m pytest -q tests/image

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .hypothesis build *.egg-info
