# Shortcuts shared by people and CI. `make test` is the README's test command.
.PHONY: build test bench clean

build:            ## in-place build of the kernel, for working on the source tree
	python3 setup.py build_ext --inplace

test:             ## install the package with its test extras, then run the tests
	pip install ".[test]" && pytest

bench:            ## fastw2v against gensim on ../shared/data/wiki8.txt.xz (takes minutes)
	pip install ".[bench]" && python3 benchmarks/bench_train.py && python3 benchmarks/bench_query.py

clean:
	rm -rf build *.egg-info fastw2v/*.so src/*.c src/*.html
