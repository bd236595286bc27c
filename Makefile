# bpfprof: `make` builds build/bpfprof and its argv[0] links.
# `make deps` installs Debian packages; `make test`, `make demo`, `make bench`.
CLANG    ?= clang
CC       ?= gcc
BPFTOOL  ?= bpftool
PREFIX   ?= /usr/local
BUILD    := build
ARCH     := x86

# CFLAGS/LDFLAGS are the user's (make CFLAGS=-O0 builds); what the code
# needs is kept apart and always added.
CFLAGS   ?= -O2 -g
REQ_CFLAGS := -DBPFPROF_VERSION=\"0.1.0\" -Wall -Wextra -Wno-unused-parameter -Wno-missing-field-initializers \
	    -std=gnu11 -D_GNU_SOURCE -I$(BUILD) -Ibpf -Iuser -MMD -MP
LDLIBS   := -lbpf -ldw -lelf -lz -lcapstone -lstdc++ -lm -lmicrohttpd -lpthread

# `make V=1` shows the commands.
ifeq ($(V),1)
Q :=
msg = @true
else
Q := @
msg = @printf '  %-8s %s\n' $(1) $(2)
endif
BPFFLAGS := -O2 -g -target bpf -D__TARGET_ARCH_$(ARCH) -Ivmlinux -Ibpf -Wall \
	    -idirafter /usr/include/$(shell gcc -dumpmachine) \
	    -Wno-unused-function

BPF_SRCS  := $(wildcard bpf/*.bpf.c)
BPF_OBJS  := $(patsubst bpf/%.bpf.c,$(BUILD)/%.bpf.o,$(BPF_SRCS))
SKELS     := $(patsubst bpf/%.bpf.c,$(BUILD)/%.skel.h,$(BPF_SRCS))
# user/ holds one folder per layer (docs/design.md); includes name the folder.
USER_SRCS := $(wildcard user/*.c user/*/*.c)
USER_OBJS := $(patsubst user/%.c,$(BUILD)/obj/%.o,$(USER_SRCS))
LIB_OBJS  := $(filter-out $(BUILD)/obj/main.o,$(USER_OBJS))
ALIASES   := oncpu offcpu lockwait mallocstacks

.PHONY: all deps test demo bench install clean asan fuzz fuzzlib
# Keep every intermediate (BPF objects, skeletons); a failed recipe leaves
# no half-written target behind.
.SECONDARY:
.DELETE_ON_ERROR:
all: $(BUILD)/bpfprof $(addprefix $(BUILD)/,$(ALIASES))

$(BUILD)/%.bpf.o: bpf/%.bpf.c | $(BUILD)
	$(call msg,BPF,$@)
	$(Q)$(CLANG) $(BPFFLAGS) -MMD -MP -c $< -o $@

$(BUILD)/%.skel.h: $(BUILD)/%.bpf.o
	$(call msg,SKEL,$@)
	$(Q)$(BPFTOOL) gen skeleton $< name $*_bpf > $@

# System call names by number, from the kernel headers (base/syscalls.c).
UNISTD := /usr/include/$(shell gcc -dumpmachine)/asm/unistd_64.h
$(BUILD)/syscall_names.h: $(UNISTD) | $(BUILD)
	$(call msg,GEN,$@)
	$(Q)awk '$$1 == "#define" && $$2 ~ /^__NR_/ { sub(/^__NR_/, "", $$2); printf "[%s] = \"%s\",\n", $$3, $$2 }' $< > $@

# The HTML timeline's page as a C string (render/timeline_html.c).
$(BUILD)/timeline_html.inc: user/render/timeline.html | $(BUILD)
	$(call msg,GEN,$@)
	$(Q)sed -e 's/\\/\\\\/g' -e 's/"/\\"/g' -e 's/^/"/' -e 's/$$/\\n"/' $< > $@

# Headers from -MMD; the skeletons must exist before any user file compiles.
$(BUILD)/obj/%.o: user/%.c | $(SKELS) $(BUILD)/syscall_names.h $(BUILD)/timeline_html.inc $(BUILD)
	$(call msg,CC,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(REQ_CFLAGS) $(CFLAGS) -c $< -o $@

# Made afresh: `ar r` never drops a member, so an object whose source was
# removed or renamed would stay in the archive and win at link time.
$(BUILD)/libbpfprof.a: $(LIB_OBJS)
	$(call msg,AR,$@)
	$(Q)rm -f $@ && ar rcs $@ $^

$(BUILD)/bpfprof: $(BUILD)/obj/main.o $(BUILD)/libbpfprof.a
	$(call msg,LINK,$@)
	$(Q)$(CC) $(CFLAGS) $(LDFLAGS) $^ -o $@ $(LDLIBS)

$(addprefix $(BUILD)/,$(ALIASES)): $(BUILD)/bpfprof
	$(Q)ln -sf bpfprof $@

-include $(wildcard $(BUILD)/*.d $(BUILD)/obj/*.d $(BUILD)/obj/*/*.d)

$(BUILD):
	mkdir -p $(BUILD)/obj

# The same binary under ASan+UBSan, for the suite's sanitizer pass.
asan:
	@$(MAKE) --no-print-directory BUILD=$(BUILD)/asan \
		CFLAGS="-O1 -g -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined" all

# The library instrumented for libFuzzer (clang), for tests/fuzz.
fuzzlib:
	@$(MAKE) --no-print-directory BUILD=$(BUILD)/fuzz CC=clang \
		CFLAGS="-O1 -g -fsanitize=fuzzer-no-link,address,undefined -fno-sanitize-recover=undefined" \
		$(BUILD)/fuzz/libbpfprof.a

# Each fuzz harness for FUZZ_SECONDS (default 300) on its committed corpus.
fuzz: all
	@$(MAKE) --no-print-directory -C tests fuzz
	@tests/fuzz/run.sh $${FUZZ_SECONDS:-300}

deps:
	@tools/deps.sh

test: deps
	@$(MAKE) --no-print-directory all
	@tests/run.sh

demo: deps
	@$(MAKE) --no-print-directory all
	@tools/demo.sh

bench:
	@$(MAKE) --no-print-directory all
	@bench/deps.sh
	@bench/run.sh

install: all
	install -d $(DESTDIR)$(PREFIX)/bin
	install -m 0755 $(BUILD)/bpfprof $(DESTDIR)$(PREFIX)/bin/bpfprof
	for a in $(ALIASES); do ln -sf bpfprof $(DESTDIR)$(PREFIX)/bin/$$a; done

clean:
	rm -rf $(BUILD)
