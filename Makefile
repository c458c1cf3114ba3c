# flowsift build.  `make` builds everything into build/; `make test` builds,
# runs cppcheck, the unit, corpus and integration tests, then the same tests
# again under AddressSanitizer and UndefinedBehaviorSanitizer.
#
# Variables:
#   WERROR=1    treat warnings as errors (CI sets it)
#   SANITIZE=1  build with -fsanitize=address,undefined into build/asan
#   BUILD_DIR   output folder (default build, or build/asan with SANITIZE=1)

CC      ?= gcc
PKGS    := rdkafka avro-c hiredis libpcap jansson libmicrohttpd libmaxminddb netsnmp cairo
SANITIZE ?=
ifeq ($(SANITIZE),1)
BUILD_DIR ?= build/asan
SANFLAGS := -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined
OPT      := -O1
else
BUILD_DIR ?= build
SANFLAGS :=
OPT      := -O2
endif

WARN    := -Wall -Wextra -Wshadow -Wstrict-prototypes -Wformat=2
ifeq ($(WERROR),1)
WARN    += -Werror
endif

PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS   := $(shell pkg-config --libs $(PKGS) 2>/dev/null)

CFLAGS  ?= $(OPT) -g
CFLAGS  += -std=c11 -D_GNU_SOURCE $(WARN) $(SANFLAGS) -Ipkg -I$(BUILD_DIR)/gen $(PKG_CFLAGS)
LDFLAGS += $(SANFLAGS)
LDLIBS  += $(PKG_LIBS) -lpthread -lm

PKG_SRCS := $(sort $(shell find pkg -name '*.c'))
GEN_SRCS := $(BUILD_DIR)/gen/schemas_embedded.c
LIB_OBJS := $(PKG_SRCS:%.c=$(BUILD_DIR)/obj/%.o) $(BUILD_DIR)/obj/gen/schemas_embedded.o
LIB      := $(BUILD_DIR)/libflowsift.a

# cmd/<dir>/ builds build/bin/flowsift-<dir>; cmd/flowsift/ builds build/bin/flowsift.
# cmd/common/ builds no program: its archive holds the start-up the workers share.
CMD_DIRS := $(filter-out common,$(sort $(patsubst cmd/%/,%,$(dir $(wildcard cmd/*/*.c)))))
CMD_COMMON_OBJS := $(patsubst %.c,$(BUILD_DIR)/obj/%.o,$(wildcard cmd/common/*.c))
CMD_COMMON_LIB  := $(BUILD_DIR)/libflowsift-cmd.a
CFLAGS  += -Icmd/common
bin_name = $(if $(filter flowsift,$(1)),flowsift,flowsift-$(1))
BINS     := $(foreach d,$(CMD_DIRS),$(BUILD_DIR)/bin/$(call bin_name,$(d)))

TEST_SRCS    := $(sort $(wildcard tests/test_*.c))
SUPPORT_SRCS := $(sort $(wildcard tests/support/*.c))
SUPPORT_OBJS := $(SUPPORT_SRCS:%.c=$(BUILD_DIR)/obj/%.o)
TESTS        := $(TEST_SRCS:tests/%.c=$(BUILD_DIR)/tests/%)

FUZZ_SRCS := $(sort $(wildcard tests/fuzz/fuzz_*.c))
FUZZ_REPLAY := $(FUZZ_SRCS:tests/fuzz/%.c=$(BUILD_DIR)/fuzz/%-replay)

.PHONY: all bins deps deps-run test check unit-tests cppcheck run demo bench fuzz clean
.DEFAULT_GOAL := all
# Keeps object files that make would otherwise delete as intermediates.
.SECONDARY:

all: $(BINS) $(TESTS) $(FUZZ_REPLAY)

# The programs only, without the tests: what `make run` needs.
bins: $(BINS)

deps:
	@scripts/deps.sh

# What make run and make demo need: deps without the test-only validator.
deps-run:
	@DEPS_VALIDATOR=0 scripts/deps.sh

$(BUILD_DIR)/gen/schemas_embedded.c: $(wildcard schemas/*.avsc) scripts/embed-schemas.sh
	@mkdir -p $(dir $@)
	scripts/embed-schemas.sh schemas $@

$(BUILD_DIR)/obj/gen/schemas_embedded.o: $(BUILD_DIR)/gen/schemas_embedded.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -MMD -MP -c $< -o $@

$(BUILD_DIR)/obj/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -MMD -MP -c $< -o $@

$(LIB): $(LIB_OBJS)
	@rm -f $@
	ar rcs $@ $^

$(CMD_COMMON_LIB): $(CMD_COMMON_OBJS)
	@rm -f $@
	ar rcs $@ $^

define cmd_rule
$(BUILD_DIR)/bin/$(call bin_name,$(1)): $(patsubst %.c,$(BUILD_DIR)/obj/%.o,$(wildcard cmd/$(1)/*.c)) $(CMD_COMMON_LIB) $(LIB)
	@mkdir -p $$(dir $$@)
	$$(CC) $$(LDFLAGS) $$^ $$(LDLIBS) -o $$@
endef
$(foreach d,$(CMD_DIRS),$(eval $(call cmd_rule,$(d))))

# flowsift-console embeds the page that web/ bundles with esbuild into
# build/web/ (scripts/build-web.sh runs npm ci when web/node_modules is out
# of date, which needs the npm registry).
WEB_SRCS := $(wildcard web/src/*) web/build.mjs web/package.json web/package-lock.json
build/web/index.html: $(WEB_SRCS) scripts/build-web.sh
	scripts/build-web.sh

$(BUILD_DIR)/gen/console_assets.c: build/web/index.html scripts/embed-assets.sh
	@mkdir -p $(dir $@)
	scripts/embed-assets.sh build/web $@

$(BUILD_DIR)/obj/gen/console_assets.o: $(BUILD_DIR)/gen/console_assets.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -Icmd/console -c $< -o $@

$(BUILD_DIR)/bin/flowsift-console: $(BUILD_DIR)/obj/gen/console_assets.o

$(BUILD_DIR)/tests/%: $(BUILD_DIR)/obj/tests/%.o $(SUPPORT_OBJS) $(LIB)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) $^ $(LDLIBS) -lcmocka -o $@

$(BUILD_DIR)/fuzz/%-replay: $(BUILD_DIR)/obj/tests/fuzz/%.o $(BUILD_DIR)/obj/tests/fuzz/replay_main.o $(LIB)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) $^ $(LDLIBS) -o $@

# libFuzzer builds need clang; `make fuzz FUZZ_SECONDS=60` runs every target.
FUZZ_SECONDS ?= 30
fuzz:
	scripts/fuzz.sh $(FUZZ_SECONDS)

cppcheck:
	cppcheck --quiet --error-exitcode=1 --std=c11 --enable=warning,portability,performance \
		--inline-suppr --suppress=missingIncludeSystem -Ipkg -Icmd/common pkg cmd tests

unit-tests: all
	scripts/run-tests.sh $(BUILD_DIR)

# The plain build must be warning-free; the sanitizer pass repeats every test.
test: deps
	$(MAKE) all
	$(MAKE) cppcheck
	$(MAKE) unit-tests
	$(MAKE) SANITIZE=1 unit-tests

run: deps-run bins
	scripts/run.sh

demo: deps-run bins
	scripts/demo.sh

bench: deps all
	scripts/bench.sh

clean:
	rm -rf build

-include $(shell find $(BUILD_DIR)/obj -name '*.d' 2>/dev/null)
