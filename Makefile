# kubesim: `make demo`, `make lab`, `make slides` and `make test` each create .venv when missing
# and install what they need (`make slides` and `make test` also run `npm ci`: reveal.js).
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-$(shell cat pyproject.toml | cksum | cut -d' ' -f1)

.PHONY: demo lab slides test soak bench bench-full clean venv chromium node

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev,notebooks,distributed]'
	$(BIN)/python -m ipykernel install --sys-prefix --name python3 >/dev/null
	rm -f $(VENV)/.installed-*
	touch $(STAMP)

venv: $(STAMP)

demo: $(STAMP)
	$(BIN)/kubesim compare
	MPLBACKEND=Agg $(BIN)/kubesim figures --out figures
	@echo "next: make lab (the notebooks in JupyterLab), make slides (the notebooks as decks)"

# JupyterLab on notebooks/, with .venv's kernel (registered by the stamp above) and ipywidgets;
# it prints the URL to open (--allow-root when run as root, which Jupyter refuses otherwise).
# LAB_ARGS passes options, e.g. make lab LAB_ARGS="--no-browser --port 8890"
LAB_ARGS ?=
lab: $(STAMP)
	PATH="$(CURDIR)/$(BIN):$$PATH" $(BIN)/jupyter lab --notebook-dir=notebooks \
	  $(if $(filter 0,$(shell id -u)),--allow-root) $(LAB_ARGS)

# reveal.js, require.js and jQuery for the decks, at the versions package.json pins (npm ci
# installs package-lock.json's); node and npm from Debian when missing, like chromium below.
NODE_STAMP := node_modules/.installed-$(shell cat package-lock.json | cksum | cut -d' ' -f1)
$(NODE_STAMP): package.json package-lock.json
	@command -v npm >/dev/null 2>&1 || { \
	  echo "installing Debian's nodejs and npm for the slide decks"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nodejs npm >/dev/null; }
	npm ci --no-audit --no-fund --ignore-scripts --loglevel=error
	touch $(NODE_STAMP)

node: $(NODE_STAMP)

# Every notebook executed and written as a reveal.js deck to out/slides/ (open out/slides/index.html;
# works offline: reveal.js is copied next to the decks): simulator/presentation/slides.py
slides: $(STAMP) $(NODE_STAMP)
	$(BIN)/python -m simulator.presentation.slides --out out/slides

# The slide test renders the reveal.js deck in headless Chromium (Debian's package).
chromium:
	@command -v chromium >/dev/null 2>&1 || { \
	  echo "installing Debian's chromium for the slide test"; \
	  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null) \
	  || echo "chromium could not be installed: the slide test will be skipped"; }

test: $(STAMP) chromium $(NODE_STAMP)
	MPLBACKEND=Agg $(BIN)/python -m pytest -q

# The long property run: 5,000 random scenarios (+ 833 determinism checks), Hypothesis profile
# "soak" of tests/conftest.py; about 17 CPU-minutes (no per-test timeout). A shorter soak:
# make soak KUBESIM_HYPOTHESIS_EXAMPLES=1000
soak: $(STAMP)
	KUBESIM_HYPOTHESIS_PROFILE=soak KUBESIM_HYPOTHESIS_EXAMPLES=$(KUBESIM_HYPOTHESIS_EXAMPLES) MPLBACKEND=Agg $(BIN)/python -m pytest -q -p no:cacheprovider \
	  --timeout 0 tests/test_properties.py --hypothesis-show-statistics

# Benchmarks (benchmarks/): the density suite (1k and 10k pods per chain), then the sweep suite;
# under 10 minutes on an idle 2-core machine. BENCH_SIZES=1k,10k,30k picks other sizes;
# bench-full runs 1k to 150k (cluster-density-5000 itself: an estimated 5-9 CPU minutes per chain).
bench: $(STAMP)
	$(BIN)/python -m benchmarks.bench_density
	$(BIN)/python -m benchmarks.bench_sweep

bench-full: $(STAMP)
	$(BIN)/python -m benchmarks.bench_density --full
	$(BIN)/python -m benchmarks.bench_sweep

clean:
	rm -rf $(VENV) build *.egg-info node_modules
