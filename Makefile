# tether: `make run` serves a 1 GiB RAM LUN on 127.0.0.1:3260; `make check` runs every test.
BUILD ?= build
SANBUILD ?= build-san
FUZZBUILD ?= build-fuzz
FUZZ_SECONDS ?= 60
PORTAL ?= 127.0.0.1:3260
# make install: programs, manual pages, docs and the unit below PREFIX; the configuration in
# SYSCONFDIR/tether (docs/install.md). DESTDIR, when given, goes before every path.
PREFIX ?= /usr/local
SYSCONFDIR ?= /etc
DESTDIR ?=

.PHONY: all deps build run check check-quick fuzz fuzz-build bench clean install

all: build

deps-%:
	@scripts/deps.sh $*

$(BUILD)/build.ninja:
	meson setup $(BUILD) -Dwerror=true

$(SANBUILD)/build.ninja:
	meson setup $(SANBUILD) -Db_sanitize=address,undefined -Db_lundef=false

# The libFuzzer harnesses (tests/fuzz, docs/fuzzing.md): clang, ASan + UBSan, every layer
# instrumented for coverage.
$(FUZZBUILD)/build.ninja:
	CC=clang meson setup $(FUZZBUILD) -Dwerror=true -Dfuzz=true \
		-Db_sanitize=address,undefined -Db_lundef=false

fuzz-build: deps-build deps-fuzz $(FUZZBUILD)/build.ninja
	ninja -C $(FUZZBUILD)

# Each harness for FUZZ_SECONDS on its corpus (new inputs: $(FUZZBUILD)/fuzz-corpus/<harness>/).
fuzz: fuzz-build
	tests/fuzz/fuzz.sh $(FUZZBUILD) $(FUZZ_SECONDS)

build: deps-build $(BUILD)/build.ninja
	ninja -C $(BUILD)

install: build
	meson configure $(BUILD) -Dprefix=$(PREFIX) -Dsysconfdir=$(SYSCONFDIR)
	meson install -C $(BUILD) $(if $(DESTDIR),--destdir "$(DESTDIR)")

run: deps-run build
	$(BUILD)/src/cmd/tetherd --portal $(PORTAL) --lun ram:1G

# The whole suite: unit tests on the normal build and on an ASan+UBSan build, then every
# interop, fault and VM test (against the sanitizer build where it matters), and a smoke of the
# fuzz harnesses (skipped when clang or libFuzzer cannot be installed).
check: deps-check build $(SANBUILD)/build.ninja
	ninja -C $(SANBUILD)
	-@scripts/deps.sh fuzz
	@if command -v clang >/dev/null; then \
		$(MAKE) --no-print-directory $(FUZZBUILD)/build.ninja && ninja -C $(FUZZBUILD); \
	else echo "no clang: the fuzz smoke will be skipped"; fi
	TT_FUZZ_BUILD=$(FUZZBUILD) tests/run.sh --build $(BUILD) --san-build $(SANBUILD)

check-quick: deps-check build
	tests/run.sh --build $(BUILD) --quick

bench: build
	bench/run.sh $(BUILD)

clean:
	rm -rf $(BUILD) $(SANBUILD) $(FUZZBUILD)
