# astforge: `make test` installs what is missing, builds, and runs every test.
MAKEFLAGS += --no-print-directory
BUILD_DIR ?= build
BUILD_TYPE ?= Release
JOBS ?= $(shell nproc 2>/dev/null || echo 2)
CMAKE_FLAGS ?=

FUZZ_DIR ?= build-fuzz
FUZZ_SECONDS ?= 60
FUZZ_SMOKE_RUNS ?= 3000

.PHONY: deps configure build all test bench format format-check reference clean fuzz fuzz-build fuzz-smoke

deps:
	@bash scripts/install-deps.sh
	@bash scripts/install-test-fixtures.sh

configure:
	@cmake -S . -B $(BUILD_DIR) -DCMAKE_BUILD_TYPE=$(BUILD_TYPE) $(CMAKE_FLAGS) >/dev/null

build: configure
	@cmake --build $(BUILD_DIR) -j $(JOBS)

# Every tool of the pipeline.
all: build

test: deps build fuzz-smoke
	@cd $(BUILD_DIR) && ctest --output-on-failure -j $(JOBS)

# libFuzzer targets (fuzz/): built with clang in their own tree; `make fuzz` runs each for FUZZ_SECONDS, the
# smoke run (part of `make test`) a fixed number of inputs from the checked-in seed corpus.
fuzz-build:
	@CXX=clang++ cmake -S fuzz -B $(FUZZ_DIR) -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
	@cmake --build $(FUZZ_DIR) -j $(JOBS)

fuzz: fuzz-build
	@bash fuzz/run.sh $(FUZZ_DIR) $(FUZZ_SECONDS)

fuzz-smoke: fuzz-build
	@bash fuzz/run.sh $(FUZZ_DIR) runs=$(FUZZ_SMOKE_RUNS)

bench: build
	@cmake --build $(BUILD_DIR) -j $(JOBS) --target bench_jsonl bench_validate bench_tokenizer bench_model bench_constrain \
	  bench_llama_agreement bench_serve
	@mkdir -p $(BUILD_DIR)/bench
	@$(BUILD_DIR)/bin/bench_jsonl --out $(BUILD_DIR)/bench/jsonl_read.json --work-dir $(BUILD_DIR)/bench
	@$(BUILD_DIR)/bin/bench_tokenizer --out $(BUILD_DIR)/bench/tokenizer.json
	@$(BUILD_DIR)/bin/bench_model --out $(BUILD_DIR)/bench/model.json
	@if [ -f outputs/dev/d_04_training_corpus.jsonl ]; then \
	  $(BUILD_DIR)/bin/bench_constrain --out $(BUILD_DIR)/bench/constrain.json; \
	else echo "bench_constrain: skipped (run ./runAll.sh first: it needs outputs/dev's schemas and corpus)"; fi
	@if [ -d outputs/dev/student_runs/dev-tiny-dpo/checkpoint-final ]; then \
	  $(BUILD_DIR)/bin/bench_llama_agreement --out $(BUILD_DIR)/bench/llama_agreement.json; \
	else echo "bench_llama_agreement: skipped (run ./runAll.sh --with-training --with-alignment first)"; fi
	@if [ -d outputs/dev/student_runs/dev-tiny-dpo/checkpoint-final ]; then \
	  $(BUILD_DIR)/bin/bench_serve --bin $(BUILD_DIR)/bin --out $(BUILD_DIR)/bench/serve.json; \
	else echo "bench_serve: skipped (run ./runAll.sh --with-training --with-alignment first)"; fi
	@BUILD_DIR=$(abspath $(BUILD_DIR)) bash tests/bench/bench_dataset.sh

format:
	@clang-format -i $$(find lib tools tests fuzz -name '*.cpp' -o -name '*.h')

format-check:
	@clang-format --dry-run -Werror $$(find lib tools tests fuzz -name '*.cpp' -o -name '*.h')

# Regenerates configs/REFERENCE.md from the field table.
reference: build
	@$(BUILD_DIR)/bin/cfg-check --reference > configs/REFERENCE.md

clean:
	@rm -rf $(BUILD_DIR)
