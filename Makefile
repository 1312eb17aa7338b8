# A thin wrapper over Meson + ninja. See README.md.
BUILD     ?= build
ASAN      ?= build-asan
FUZZ      ?= build-fuzz
PREFIX    ?= /usr/local
DESTDIR   ?=
WERROR    ?= true
FUZZ_SECONDS ?= 60
PY        := /usr/bin/python3

.PHONY: all web e2e deps run test unit asan api check-banned fuzz bench install clean

all: $(BUILD)/build.ninja web
	ninja -C $(BUILD)

# The dashboard: npm installs the locked dependencies (web/package-lock.json) into
# web/node_modules, then web/build.mjs writes web/dist, which cloudyad serves.
web: web/dist/index.html

web/dist/index.html: web/node_modules/.package-lock.json $(shell find web/src -type f 2>/dev/null) web/build.mjs
	cd web && node build.mjs

web/node_modules/.package-lock.json: web/package.json web/package-lock.json
	@scripts/deps.sh build
	cd web && npm ci --no-audit --no-fund --loglevel=error

$(BUILD)/build.ninja:
	@scripts/deps.sh build
	meson setup $(BUILD) --prefix=$(PREFIX) -Dwerror=$(WERROR)

$(ASAN)/build.ninja:
	@scripts/deps.sh test
	meson setup $(ASAN) -Dwerror=true -Db_sanitize=address,undefined -Db_lundef=false \
		-Dbuildtype=debug

deps:
	scripts/deps.sh all

# Installs what is missing, builds, starts the Docker Engine if needed, creates the first
# admin (printing its password once) and runs cloudyad in the foreground.
run:
	@scripts/deps.sh build
	@$(MAKE) --no-print-directory all
	@scripts/run.sh $(BUILD)

# The whole suite: banned functions, unit tests (plain and under ASan+UBSan), then the API
# tests against the sanitizer build of the daemon with a real dockerd.
test:
	@scripts/test.sh

unit: all
	meson test -C $(BUILD) --print-errorlogs

asan: $(ASAN)/build.ninja
	ninja -C $(ASAN)
	meson test -C $(ASAN) --print-errorlogs

# The dashboard's browser tests alone (Chromium, against the sanitizer build).
e2e: web $(ASAN)/build.ninja
	ninja -C $(ASAN)
	CLOUDYA_BUILD=$(ASAN) tests/e2e/run.sh

check-banned:
	@scripts/check-banned.sh

$(FUZZ)/build.ninja:
	@scripts/deps.sh test
	CC=clang-14 meson setup $(FUZZ) -Dfuzz=true -Dtests=disabled -Dbuildtype=debug \
		-Dc_args=-fsanitize=fuzzer-no-link,address,undefined \
		-Dc_link_args=-fsanitize=address,undefined -Db_lundef=false

# Runs each fuzz target for FUZZ_SECONDS on its corpus; not part of `make test`.
fuzz: $(FUZZ)/build.ninja
	ninja -C $(FUZZ)
	@scripts/fuzz.sh $(FUZZ) $(FUZZ_SECONDS)

bench: all
	bench/all.sh

install: all
	meson configure $(BUILD) --prefix=$(PREFIX) >/dev/null
	ninja -C $(BUILD)
	DESTDIR=$(DESTDIR) meson install -C $(BUILD) --no-rebuild
	install -d $(DESTDIR)$(PREFIX)/share/cloudya/web
	cp -R web/dist/. $(DESTDIR)$(PREFIX)/share/cloudya/web/
	install -d $(DESTDIR)$(PREFIX)/share/cloudya/knowledge
	cp -R knowledge/. $(DESTDIR)$(PREFIX)/share/cloudya/knowledge/

clean:
	rm -rf $(BUILD) $(ASAN) $(FUZZ) web/dist
