# Shortcuts shared by people and CI. `make test` is the README's test command.
.PHONY: build test lint bench clean

build:            ## in-place build of the kernel, for working on the source tree
	python3 setup.py build_ext --inplace

test:             ## install the package with its test extras, then run the tests
	pip install ".[test]" && pytest

# Every linter runs even when an earlier one finds something, so that one run shows all
# the findings; the target fails if any did.
lint:             ## ruff, cython-lint and mypy (install them with: pip install ".[lint]")
	@status=0; \
	echo "ruff check fastw2v tests benchmarks setup.py"; \
	ruff check fastw2v tests benchmarks setup.py || status=1; \
	echo "cython-lint src"; \
	cython-lint src || status=1; \
	echo "mypy fastw2v"; \
	mypy fastw2v || status=1; \
	exit $$status

bench:            ## fastw2v against gensim on ../shared/data/wiki8.txt.xz (takes minutes)
	pip install ".[bench]" && python3 benchmarks/bench_train.py && python3 benchmarks/bench_query.py

clean:
	rm -rf build *.egg-info fastw2v/*.so src/*.c src/*.html
