# Smooth Max: the two commands are `make book` and `make test` (see README.md).
SHELL := /bin/bash
.DEFAULT_GOAL := help
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
JB_FLAGS := -W -n --keep-going
export PYTHONHASHSEED := 0
export MPLBACKEND := Agg
export PIP_DISABLE_PIP_VERSION_CHECK := 1
# Kernels read _ext/ipython/profile_default/ipython_kernel_config.py (quiet start-up).
export IPYTHONDIR := $(CURDIR)/_ext/ipython

.PHONY: help book test test-lib test-book lab serve student bench clean browser install install-dev
.PHONY: assignments grades
.PHONY: dist pdf translations

# The library's version (one place: lib/smoothmax/__init__.py) and the wheel the site ships.
VERSION := $(shell sed -n 's/^__version__ = "\(.*\)"/\1/p' lib/smoothmax/__init__.py)
WHEEL := dist/smoothmax-$(VERSION)-py3-none-any.whl

help:
	@echo "make book   build the static HTML book into _build/html, its Chinese edition into _build/html/zh (creates .venv)"
	@echo "make translations  update the Chinese edition's catalogs (locales/zh_CN) from the English text"
	@echo "make test   run every test: library, notebooks, built pages in Chromium, live widgets in JupyterLab"
	@echo "make lab    open the chapters in JupyterLab"
	@echo "make serve  serve _build/html on http://127.0.0.1:8000"
	@echo "make student  write the student edition (no solutions, no outputs) to _build/student"
	@echo "make assignments  write nbgrader source notebooks to $(COURSE)/source (COURSE=_build/course)"
	@echo "make grades  export the gradebook of $(COURSE) to grades.csv and grades_by_exercise.csv"
	@echo "make bench  time builds, sliders and the library; writes _build/bench.json"
	@echo "make clean  remove _build (keeps .venv)"
	@echo "make dist   build the smoothmax wheel and sdist into dist/ and twine-check them"
	@echo "make pdf    the whole book as one PDF: _build/pdf/smooth-max.pdf"

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

$(VENV)/.installed: requirements.txt constraints.txt lib/pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -r requirements.txt
	touch $@

$(VENV)/.installed-dev: requirements-dev.txt $(VENV)/.installed
	$(BIN)/pip install --quiet -r requirements-dev.txt
	touch $@

install: $(VENV)/.installed
install-dev: $(VENV)/.installed-dev

# Strict: a failing cell, a Sphinx warning (stderr from a cell included) or a
# broken reference fails the build. Execution results are cached in
# _build/.jupyter_cache, so a rebuild with nothing changed is fast.
book: $(VENV)/.installed _build/.lib-stamp $(WHEEL)
	SMOOTHMAX_STATIC_FRAMES=1 $(BIN)/jupyter-book build . $(JB_FLAGS)
	SMOOTHMAX_STATIC_FRAMES=1 $(BIN)/python tools/i18n.py build

# The Chinese edition's catalogs: extract the English messages and merge them into
# locales/zh_CN (new ones untranslated, changed ones fuzzy); then translate (README).
translations: $(VENV)/.installed
	SMOOTHMAX_STATIC_FRAMES=1 $(BIN)/python tools/i18n.py update
	$(BIN)/python tools/i18n.py check || true

# jupyter-cache keys on the notebooks' content only, and Sphinx re-reads only
# changed sources; outputs (figures, slider frames, numbers) also depend on
# smoothmax, so a change there drops both and every notebook runs again.
LIB_SOURCES := $(shell find lib/smoothmax -name '*.py' 2>/dev/null)
_build/.lib-stamp: $(LIB_SOURCES)
	rm -rf _build/.jupyter_cache _build/.doctrees _build/zh
	mkdir -p _build && touch $@

# A headless Chromium for the browser tests: Debian's package when root,
# otherwise Playwright's own build.
browser: $(VENV)/.installed-dev
	@if command -v chromium >/dev/null 2>&1; then echo "chromium: $$(command -v chromium)"; \
	elif [ "$$(id -u)" = 0 ]; then \
	  DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium >/dev/null 2>&1 || \
	  { DEBIAN_FRONTEND=noninteractive apt-get update -q >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium >/dev/null; }; \
	  command -v chromium; \
	else $(BIN)/python -m playwright install chromium; fi

test-lib: $(VENV)/.installed-dev
	cd lib && ../$(BIN)/python -m pytest -q

test-book: book browser pdf
	$(BIN)/python -m pytest -q --durations=12 tests

test: test-lib test-book

# The chapters without solutions or outputs, for students (see README).
student: $(VENV)/.installed
	$(BIN)/python tools/student_edition.py chapters _build/student

# A benchmark, not a test: prints a table, writes _build/bench.json
# (BENCH_ARGS=--update-readme also rewrites README's results section).
bench: $(VENV)/.installed-dev browser
	$(BIN)/python bench/run.py $(BENCH_ARGS)

lab: $(VENV)/.installed
	$(BIN)/jupyter lab chapters/

serve:
	$(PYTHON) -m http.server --directory _build/html --bind 127.0.0.1 8000

clean:
	rm -rf _build

# Graded assignments (README, "Grading with nbgrader"). COURSE is an nbgrader
# course directory; keep a real one outside _build (`make clean` removes _build).
COURSE ?= _build/course
COURSE_ENV := PATH="$(CURDIR)/$(BIN):$$PATH" PYTHONPATH="$(CURDIR)/tools" IPYTHONDIR="$(IPYTHONDIR)"

$(VENV)/.installed-course: requirements-course.txt $(VENV)/.installed
	$(BIN)/pip install --quiet -r requirements-course.txt
	touch $@

assignments: $(VENV)/.installed-course
	$(BIN)/python tools/assignments.py source chapters $(COURSE)

grades: $(VENV)/.installed-course
	cd $(COURSE) && $(COURSE_ENV) $(CURDIR)/$(BIN)/nbgrader export --to=grades.csv
	cd $(COURSE) && $(COURSE_ENV) $(CURDIR)/$(BIN)/nbgrader export --exporter=assignments.ExerciseCsvExport --to=grades_by_exercise.csv

# -- Running the notebooks anywhere, printing the book (README) ----------------------
# The wheel `make book` ships in _build/html/_downloads (_ext/book_outputs.py).
$(WHEEL): $(LIB_SOURCES) lib/pyproject.toml lib/README.md lib/LICENSE | $(VENV)/.installed
	$(BIN)/pip wheel --quiet --no-deps --wheel-dir dist ./lib
	rm -rf lib/build

# A wheel and an sdist (the wheel built from the sdist), checked as PyPI would.
dist: $(VENV)/.installed-dev
	rm -f dist/smoothmax-$(VERSION)-py3-none-any.whl dist/smoothmax-$(VERSION).tar.gz
	$(BIN)/python -m build --outdir dist lib
	$(BIN)/twine check --strict dist/smoothmax-$(VERSION)-py3-none-any.whl dist/smoothmax-$(VERSION).tar.gz

# The whole book as one PDF: the single-page HTML build (notebook results from the
# cache `make book` filled), printed by the headless Chromium the tests use.
PDF := _build/pdf/smooth-max.pdf
pdf: book browser
	SMOOTHMAX_STATIC_FRAMES=1 $(BIN)/jupyter-book build . $(JB_FLAGS) --builder singlehtml
	$(BIN)/python tools/pdf.py _build/singlehtml $(PDF)
