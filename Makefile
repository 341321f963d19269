# pgi-survey: `make demo` and `make test` are the two commands a new user needs.
# Each creates .venv when missing and (re)installs only when pyproject.toml changed.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed

.PHONY: help demo test clean serve thumbnails

help:  ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-8s %s\n", $$1, $$2}'

$(STAMP): pyproject.toml .ci/system-packages
	@bash .ci/system-packages
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet -e '.[test]'
	@touch $(STAMP)

demo: $(STAMP)  ## run the pipeline on the bundled demo data, write reports to out/
	$(PY) pipelines/demo.py --out out

serve: $(STAMP)  ## open the staff's web page on http://127.0.0.1:8000/ (accounts: pgi-survey users add)
	$(VENV)/bin/pgi-survey serve $(if $(DB),--db $(DB))

thumbnails: demo  ## page 1 of each demo report as PNG under docs/, shown in the README (needs pdftoppm)
	pdftoppm -r 60 -f 1 -l 1 -png -singlefile out/digest_2025-12.pdf docs/digest_page1
	pdftoppm -r 60 -f 1 -l 1 -png -singlefile out/pgi_estimate_2025.pdf docs/annual_report_page1

test: $(STAMP)  ## run the test suite
	$(PY) -m pytest -q

clean:  ## remove the virtual environment and outputs
	rm -rf $(VENV) out
