# Postel: make | make test | make run | make bench | make install DESTDIR= PREFIX=
#
# Every .c under common/ goes into libpostel.a; every .c under ftpd/ and
# nntpd/ except the program mains goes into that daemon's library, so unit
# tests and fuzz targets link the same objects the daemons run. Includes are
# written from the top of the tree ("common/core/buffer.h"), so a path says
# which role's folder a header belongs to (scripts/checklayout reads them).

CC      ?= cc
SAN     ?=
ifeq ($(SAN),1)
BUILD   ?= build-san
SANFLAGS = -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined
# ASan resolves its crypt() interceptor at start-up; libcrypt must be loaded
# by then, not later by pam_unix through dlopen, or the call jumps to 0.
SANLIBS  = -Wl,--no-as-needed -lcrypt -Wl,--as-needed
else
BUILD   ?= build
SANFLAGS =
SANLIBS  =
endif
CFLAGS  ?= -O2 -g
WARN     = -std=c11 -Wall -Wextra -Werror -Wshadow -Wformat=2 -Wno-format-nonliteral
CPPFLAGS += -D_GNU_SOURCE -I. -DSYSCONFDIR='"$(SYSCONFDIR)"'
ALL_CFLAGS = $(WARN) $(CFLAGS) $(SANFLAGS) -MMD -MP
# Every symbol is bound when the listener starts (-z now), not lazily in
# each forked session process: a session's children inherit a resolved GOT
# instead of each paying the dynamic lookups (perf: do_lookup_x, _dl_fixup
# and check_match were 8% of a session's CPU); the GOT is then read-only.
LDFLAGS += -Wl,-z,relro -Wl,-z,now
LDLIBS  = -lcap -lpam -lseccomp -lssl -lcrypto -lz $(SANLIBS)
PREFIX  ?= /usr/local
SYSCONFDIR ?= $(PREFIX)/etc/postel
DESTDIR ?=
# What make install makes as root (each only when missing, never into a
# DESTDIR) and writes into the installed configs: INSTALL, section 2.
FTP_USER          ?= ftp
FTP_NOPRIV_USER   ?= nobody
NEWS_USER         ?= news
NEWS_SESSION_USER ?= nobody
SECURE_CHROOT_DIR ?= /var/lib/postel/empty
ANON_ROOT         ?= /srv/ftp
HOOK_QUEUE_DIR    ?= /var/lib/postel/hooks
LOG_DIR           ?= /var/log/postel
SPOOL_DIR         ?= /var/spool/postel/news
PAMDIR            ?= /etc/pam.d
LOGROTATEDIR      ?= /etc/logrotate.d
INSTALL_VARS = FTP_USER='$(FTP_USER)' FTP_NOPRIV_USER='$(FTP_NOPRIV_USER)' \
	NEWS_USER='$(NEWS_USER)' NEWS_SESSION_USER='$(NEWS_SESSION_USER)' \
	SECURE_CHROOT_DIR='$(SECURE_CHROOT_DIR)' ANON_ROOT='$(ANON_ROOT)' \
	HOOK_QUEUE_DIR='$(HOOK_QUEUE_DIR)' LOG_DIR='$(LOG_DIR)' SPOOL_DIR='$(SPOOL_DIR)' \
	PAMDIR='$(PAMDIR)' LOGROTATEDIR='$(LOGROTATEDIR)'

COMMON_SRC = $(wildcard common/*/*.c)
FTPD_SRC   = $(filter-out ftpd/main.c,$(wildcard ftpd/*.c ftpd/*/*.c))
NNTPD_SRC  = $(filter-out nntpd/main.c nntpd/tools/%,$(wildcard nntpd/*.c nntpd/*/*.c))
UNIT_SRC   = $(wildcard tests/unit/*-t.c)
BENCH_SRC  = $(wildcard tests/bench/*.c)
ATTACK_SRC = $(wildcard tests/attack/*.c)

obj = $(patsubst %.c,$(BUILD)/obj/%.o,$(1))
LIBPOSTEL = $(BUILD)/libpostel.a
LIBFTP    = $(BUILD)/libftp.a
LIBNNTP   = $(BUILD)/libnntp.a
LIBS      = $(LIBFTP) $(LIBNNTP) $(LIBPOSTEL)
PROGS     = $(BUILD)/ftpd $(BUILD)/nntpd $(BUILD)/nntpctl
UNITS     = $(patsubst tests/unit/%.c,$(BUILD)/unit/%,$(UNIT_SRC))
BENCHES   = $(patsubst tests/bench/%.c,$(BUILD)/bench/%,$(BENCH_SRC))
ATTACKS   = $(patsubst tests/attack/%.c,$(BUILD)/attack/%,$(ATTACK_SRC))

.PHONY: all test run bench install uninstall clean format man FORCE
.DELETE_ON_ERROR:
all: $(PROGS) $(UNITS) $(ATTACKS) man

# Objects depend on the flags they were built with (SYSCONFDIR follows
# PREFIX), so `make install PREFIX=...` rebuilds what the change affects.
FLAGS_STAMP = $(BUILD)/flags
$(FLAGS_STAMP): FORCE
	@mkdir -p $(BUILD)
	@echo '$(CC) $(CPPFLAGS) $(ALL_CFLAGS) $(LDFLAGS) $(LDLIBS)' | cmp -s - $@ || \
		echo '$(CC) $(CPPFLAGS) $(ALL_CFLAGS) $(LDFLAGS) $(LDLIBS)' > $@
FORCE:

$(BUILD)/obj/%.o: %.c $(FLAGS_STAMP)
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(ALL_CFLAGS) -c -o $@ $<

$(LIBPOSTEL): $(call obj,$(COMMON_SRC))
	rm -f $@ && $(AR) rcs $@ $^
$(LIBFTP): $(call obj,$(FTPD_SRC))
	rm -f $@ && $(AR) rcs $@ $^
$(LIBNNTP): $(call obj,$(NNTPD_SRC))
	rm -f $@ && $(AR) rcs $@ $^

$(BUILD)/ftpd: $(BUILD)/obj/ftpd/main.o $(LIBFTP) $(LIBPOSTEL)
	$(CC) $(ALL_CFLAGS) $(LDFLAGS) -o $@ $^ $(LDLIBS)
$(BUILD)/nntpd: $(BUILD)/obj/nntpd/main.o $(LIBNNTP) $(LIBPOSTEL)
	$(CC) $(ALL_CFLAGS) $(LDFLAGS) -o $@ $^ $(LDLIBS)
$(BUILD)/nntpctl: $(BUILD)/obj/nntpd/tools/nntpctl.o $(BUILD)/obj/nntpd/tools/daily.o \
		$(LIBNNTP) $(LIBPOSTEL)
	$(CC) $(ALL_CFLAGS) $(LDFLAGS) -o $@ $^ $(LDLIBS)
$(BUILD)/unit/%: $(BUILD)/obj/tests/unit/%.o $(LIBS)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) $(LDFLAGS) -o $@ $^ $(LDLIBS)
# Attack harnesses: the real roles with one process replaced by a rogue
# (the rogue's own ftp_worker wins over the library's, which is then never
# linked in).
$(BUILD)/attack/%: $(BUILD)/obj/tests/attack/%.o $(LIBS)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) $(LDFLAGS) -o $@ $^ $(LDLIBS)
$(BUILD)/bench/%: $(BUILD)/obj/tests/bench/%.o
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) $(LDFLAGS) -o $@ $^ -lssl -lcrypto -lpthread
# histstall times the store code itself, so it links the libraries.
$(BUILD)/bench/histstall: $(BUILD)/obj/tests/bench/histstall.o $(LIBNNTP) $(LIBPOSTEL)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) $(LDFLAGS) -o $@ $^ $(LDLIBS)

# Man pages: the option lists come from the option tables themselves.
MANS = $(patsubst conf/man/%,$(BUILD)/man/%,$(patsubst %.in,%,$(wildcard conf/man/*.[58] conf/man/*.[58].in)))
man: $(MANS)
$(BUILD)/man/%.8: conf/man/%.8
	@mkdir -p $(dir $@)
	cp $< $@
$(BUILD)/man/ftpd.conf.5: conf/man/ftpd.conf.5.in $(BUILD)/ftpd
	@mkdir -p $(dir $@)
	scripts/mkman $< $(BUILD)/ftpd > $@
$(BUILD)/man/nntpd.conf.5: conf/man/nntpd.conf.5.in $(BUILD)/nntpd
	@mkdir -p $(dir $@)
	scripts/mkman $< $(BUILD)/nntpd > $@

test:
	scripts/deps
	scripts/runtests

run:
	scripts/deps
	$(MAKE) all
	scripts/demo

bench:
	scripts/deps bench
	$(MAKE) all $(BENCHES)
	scripts/bench

format:
	clang-format -i $(wildcard common/*/*.[ch] ftpd/*.[ch] ftpd/*/*.[ch] nntpd/*.[ch] nntpd/*/*.[ch]) tests/unit/*.[ch]

# What is installed: the daemons and the man pages (not the tests); as
# root, also the accounts and directories above. Uninstall keeps those.
install: $(PROGS) man
	$(INSTALL_VARS) scripts/install "$(DESTDIR)" "$(PREFIX)" "$(BUILD)"
uninstall:
	$(INSTALL_VARS) scripts/install -u "$(DESTDIR)" "$(PREFIX)" "$(BUILD)"

clean:
	rm -rf build build-san run

-include $(shell find $(BUILD)/obj -name '*.d' -type f 2>/dev/null)
