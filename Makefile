# nsflow: build, test, bench, run. `make help` lists the targets.

ARCH ?= x86
CLANG ?= clang
BPFTOOL ?= bpftool
CC ?= gcc
BUILD := build
OBJ := $(BUILD)/obj

CFLAGS ?= -O2 -g
CFLAGS += -Wall -Wextra -Werror -std=gnu11 -D_GNU_SOURCE -Iheaders -Iexporter -Iloader -Itests/lib \
	-I$(BUILD)
BPF_CFLAGS := -g -O2 -target bpf -D__TARGET_ARCH_$(ARCH) -Wall -Werror -Ivmlinux/$(ARCH) -Iheaders
LIBS := -lbpf -lxdp -lelf -lz -lyaml -lpthread -lm

BPF_OBJ := $(BUILD)/nsflow.bpf.o
SKEL := $(BUILD)/nsflow.skel.h
FLOOR_OBJ := $(BUILD)/floor.bpf.o
GEN_OBJ := $(BUILD)/livegen.bpf.o

EXPORTER_SRCS := $(wildcard exporter/*.c)
LOADER_SRCS := $(filter-out loader/main.c,$(wildcard loader/*.c))
EXPORTER_LIB := $(BUILD)/libnsexport.a
LOADER_LIB := $(BUILD)/libnsloader.a
AGENT := $(BUILD)/nsflow

UNIT_TESTS := $(patsubst tests/unit/%.c,$(BUILD)/tests/unit/%,$(wildcard tests/unit/test_*.c))
DP_TESTS := $(patsubst tests/datapath/%.c,$(BUILD)/tests/datapath/%,$(wildcard tests/datapath/test_*.c))
E2E_TESTS := $(patsubst tests/e2e/%.c,$(BUILD)/tests/e2e/%,$(wildcard tests/e2e/test_*.c))
IMAGE_TESTS := $(patsubst tests/image/%.c,$(BUILD)/tests/image/%,$(wildcard tests/image/test_*.c))
TEST_HELPERS := $(wildcard tests/lib/*.c)
# collectors of our own on other libraries (tests/tools/): libfixbuf's NetFlow v9 reader
TEST_TOOLS := $(BUILD)/tests/tools/fixbuf_v9
BENCHES := $(patsubst tests/bench/%.c,$(BUILD)/tests/bench/%,$(wildcard tests/bench/bench_*.c))

DEPS := clang llvm libbpf-dev libxdp-dev xdp-tools bpftool libelf-dev zlib1g-dev \
	libyaml-dev libcriterion-dev pkg-config iproute2 tshark nfdump pmacct tcpreplay \
	clang-format make gcc bgpdump libfixbuf-tools libfixbuf-dev bash-completion man-db \
	prometheus systemd util-linux nodejs
# `make image`: an OCI image built from a Debian base of our own (no registry is reachable)
IMAGE_DEPS := podman buildah runc debootstrap
# the kernel tier: an emulator, and busybox for the VM's initramfs
KERNEL_DEPS := qemu-system-x86 busybox-static

# `make test-kernels KERNELS='...'`: .deb files, package names or patterns (tests/kernels/run.sh)
KERNELS ?= linux-image-6.1.0-*-amd64
VERIFIER_INSNS := $(BUILD)/tests/kernels/verifier_insns

# keep objects between runs: test binaries are built from them through a pattern rule
.SECONDARY:

.PHONY: FORCE all install uninstall help deps deps-kernels vmlinux test test-unit test-datapath test-e2e test-kernels \
	bench format format-check run demo clean image test-image k8s-validate

all: $(BPF_OBJ) $(SKEL) $(AGENT) $(FLOOR_OBJ) $(GEN_OBJ)

help:
	@echo "make            build build/nsflow.bpf.o, its skeleton and the agent build/nsflow"
	@echo "make deps       install the Debian packages a fresh machine needs (apt-get)"
	@echo "make test       deps + build + unit, datapath and end-to-end tests (root)"
	@echo "make test-kernels [KERNELS='linux-image-6.1.0-*-amd64']   the same build and tests on"
	@echo "                other kernels, each in a VM (qemu; Debian kernels from apt, root)"
	@echo "make bench      datapath, agent and encoder benchmarks, each beside its floor"
	@echo "make run IFACE=veth0 [ARGS='-c ipfix://127.0.0.1:4739']   attach and meter"
	@echo "make demo       meter generated traffic in a throw-away namespace pair"
	@echo "make install [PREFIX=/usr/local DESTDIR=]   binary, nsflow(8), systemd unit,"
	@echo "                example settings, bash completion"
	@echo "make vmlinux    regenerate vmlinux/$(ARCH)/vmlinux.h from this kernel's BTF"
	@echo "make image      the agent's OCI image nsflow:VERSION (podman; Debian 12 base from debootstrap)"
	@echo "make test-image the image run with only its four capabilities and seccomp profile, in a"
	@echo "               test namespace: flows checked with nfcapd, stop, restart, a refused start"
	@echo "make format     clang-format every C file; make format-check only checks"

# Installs only when something is missing, so repeated `make test` stays quick.
define install_missing
@missing=$$(for p in $(1); do dpkg-query -W -f='$${Status}\n' $$p 2>/dev/null \
		| grep -q 'install ok installed' || echo $$p; done); \
	if [ -n "$$missing" ]; then \
		echo "installing:$$missing"; \
		export DEBIAN_FRONTEND=noninteractive; \
		echo "wireshark-common wireshark-common/install-setuid boolean false" \
			| debconf-set-selections; \
		apt-get update && apt-get install -y --no-install-recommends $$missing; \
	fi
endef

deps:
	$(call install_missing,$(DEPS))
	$(if $(shell command -v npm),,$(call install_missing,npm))

deps-kernels: deps
	$(call install_missing,$(KERNEL_DEPS))

vmlinux:
	$(BPFTOOL) btf dump file /sys/kernel/btf/vmlinux format c > vmlinux/$(ARCH)/vmlinux.h

$(BUILD)/%.bpf.o: bpf/%.bpf.c $(wildcard bpf/*.h) headers/nsflow.h | $(BUILD)
	$(CLANG) $(BPF_CFLAGS) -c $< -o $@

$(SKEL): $(BPF_OBJ)
	$(BPFTOOL) gen skeleton $< name nsflow_bpf > $@

$(BUILD):
	mkdir -p $(BUILD)

$(OBJ)/%.o: %.c $(SKEL) $(wildcard headers/*.h exporter/*.h loader/*.h tests/lib/*.h)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -c $< -o $@

$(EXPORTER_LIB): $(patsubst %.c,$(OBJ)/%.o,$(EXPORTER_SRCS))
	rm -f $@; ar rcs $@ $^

$(LOADER_LIB): $(patsubst %.c,$(OBJ)/%.o,$(LOADER_SRCS))
	rm -f $@; ar rcs $@ $^

# `nsflow --version`: what `git describe` says of the tree built (rewritten only when it changes)
VERSION := $(shell git describe --always --dirty --tags 2>/dev/null || echo unknown)
$(BUILD)/version.h: FORCE
	@mkdir -p $(dir $@)
	@echo '#define NSFLOW_VERSION "$(VERSION)"' >$@.tmp
	@cmp -s $@.tmp $@ && rm -f $@.tmp || mv $@.tmp $@
FORCE:
$(OBJ)/loader/main.o $(OBJ)/loader/metrics.o: $(BUILD)/version.h

$(AGENT): $(OBJ)/loader/main.o $(LOADER_LIB) $(EXPORTER_LIB)
	$(CC) $(CFLAGS) -o $@ $^ $(LIBS)

TEST_LINK = $(patsubst %.c,$(OBJ)/%.o,$(TEST_HELPERS)) $(LOADER_LIB) $(EXPORTER_LIB)

$(BUILD)/tests/%: $(OBJ)/tests/%.o $(patsubst %.c,$(OBJ)/%.o,$(TEST_HELPERS)) $(LOADER_LIB) \
		$(EXPORTER_LIB)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -o $@ $< $(TEST_LINK) -lcriterion $(LIBS)

$(BUILD)/tests/tools/fixbuf_v9: tests/tools/fixbuf_v9.c
	@mkdir -p $(dir $@)
	$(CC) -O2 -g -Wall -Wextra -Werror $$(pkg-config --cflags libfixbuf) -o $@ $< \
		$$(pkg-config --libs libfixbuf)

# nsflow(8), made from the binary's --help texts (deploy/man.sh)
MAN := $(BUILD)/nsflow.8
$(MAN): $(AGENT) deploy/man.sh
	deploy/man.sh $(AGENT) '$(VERSION)' >$@

# `make install [PREFIX=/usr/local] [DESTDIR=...]`: binary, man page, systemd unit, example
# settings (an existing /etc/nsflow/nsflow.yaml is kept), bash completion, README
PREFIX ?= /usr/local
SYSCONFDIR ?= /etc
UNITDIR ?= /lib/systemd/system
SYSUSERSDIR ?= /usr/lib/sysusers.d
install: all $(MAN)
	install -D -m 0755 $(AGENT) $(DESTDIR)$(PREFIX)/sbin/nsflow
	install -D -m 0644 $(MAN) $(DESTDIR)$(PREFIX)/share/man/man8/nsflow.8
	install -d -m 0755 $(DESTDIR)$(UNITDIR)
	sed -e 's|/usr/local/sbin/nsflow|$(PREFIX)/sbin/nsflow|g' \
		-e 's|/etc/nsflow/|$(SYSCONFDIR)/nsflow/|g' deploy/nsflow.service \
		>$(DESTDIR)$(UNITDIR)/nsflow.service
	chmod 0644 $(DESTDIR)$(UNITDIR)/nsflow.service
	install -D -m 0644 deploy/nsflow.sysusers $(DESTDIR)$(SYSUSERSDIR)/nsflow.conf
	install -d -m 0755 $(DESTDIR)$(SYSCONFDIR)/nsflow
	test -e $(DESTDIR)$(SYSCONFDIR)/nsflow/nsflow.yaml || \
		install -m 0640 deploy/nsflow.yaml $(DESTDIR)$(SYSCONFDIR)/nsflow/nsflow.yaml
	install -D -m 0644 deploy/nsflow.bash-completion \
		$(DESTDIR)$(PREFIX)/share/bash-completion/completions/nsflow
	install -D -m 0644 README.md $(DESTDIR)$(PREFIX)/share/doc/nsflow/README.md
	@# on this machine (no DESTDIR): the unit's user, which must read the settings
	if [ -z "$(DESTDIR)" ] && command -v systemd-sysusers >/dev/null; then \
		systemd-sysusers $(SYSUSERSDIR)/nsflow.conf && \
		chgrp nsflow $(SYSCONFDIR)/nsflow/nsflow.yaml; fi

uninstall:
	rm -f $(DESTDIR)$(PREFIX)/sbin/nsflow $(DESTDIR)$(PREFIX)/share/man/man8/nsflow.8 \
		$(DESTDIR)$(UNITDIR)/nsflow.service $(DESTDIR)$(SYSUSERSDIR)/nsflow.conf \
		$(DESTDIR)$(PREFIX)/share/bash-completion/completions/nsflow
	rm -rf $(DESTDIR)$(PREFIX)/share/doc/nsflow

test: deps all $(MAN) $(UNIT_TESTS) $(DP_TESTS) $(E2E_TESTS) $(TEST_TOOLS) k8s-validate
	@tests/run.sh $(UNIT_TESTS) -- $(DP_TESTS) -- $(E2E_TESTS)

test-unit: all $(UNIT_TESTS)
	@tests/run.sh $(UNIT_TESTS)

test-datapath: all $(DP_TESTS)
	@tests/run.sh -- $(DP_TESTS)

test-e2e: all $(MAN) $(E2E_TESTS) $(TEST_TOOLS)
	@tests/run.sh -- -- $(E2E_TESTS)

# not a criterion binary: no test main, nothing but libbpf
$(VERIFIER_INSNS): $(OBJ)/tests/kernels/verifier_insns.o
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -o $@ $< -lbpf -lelf -lz

test-kernels: deps-kernels all $(DP_TESTS) $(BUILD)/tests/e2e/test_run $(BUILD)/tests/kernels/test_vrf \
		$(VERIFIER_INSNS)
	@KERNELS='$(KERNELS)' tests/kernels/run.sh

bench: deps all $(BENCHES)
	@for b in $(BENCHES); do echo "== $$b"; $$b || exit 1; done

# `make image`: no registry is reachable, so the Debian 12 base comes from debootstrap (its
# tarball cached under build/image/); podman runs as root on cgroupfs with a file event log,
# which work without systemd, and with runc (crun refuses a hybrid cgroup v1/v2 hierarchy).
# The image is rebuilt only when a tracked file changed (the stamp).
PODMAN := podman --cgroup-manager=cgroupfs --events-backend=file --runtime runc
IMAGE_BASE := localhost/debian:12
IMAGE := localhost/nsflow:$(VERSION)
IMAGE_STAMP := $(BUILD)/image/stamp
DEBIAN_MIRROR := http://deb.debian.org/debian
$(BUILD)/image/debian-12.tar:
	$(call install_missing,$(IMAGE_DEPS))
	@mkdir -p $(dir $@)
	rm -rf $(BUILD)/image/rootfs
	debootstrap --variant=minbase bookworm $(BUILD)/image/rootfs $(DEBIAN_MIRROR)
	tar -C $(BUILD)/image/rootfs -cf $@.tmp . && mv $@.tmp $@
	rm -rf $(BUILD)/image/rootfs

$(IMAGE_STAMP): $(BUILD)/image/debian-12.tar $(shell git ls-files) .dockerignore
	$(PODMAN) image exists $(IMAGE_BASE) || $(PODMAN) import $< $(IMAGE_BASE)
	$(PODMAN) build --network host --build-arg BASE=$(IMAGE_BASE) --build-arg VERSION=$(VERSION) \
		-f deploy/Dockerfile -t $(IMAGE) .
	$(PODMAN) image inspect --format '{{.Size}}' $(IMAGE) | \
		awk '{ printf "$(IMAGE): %.1f MB\n", $$1 / 1e6 }'
	echo $(IMAGE) >$@

image: $(IMAGE_STAMP)

# the image run as an operator runs it (tests/image/): podman, the four capabilities, our seccomp
# profile, the DaemonSet's mounts, in a veth pair's namespace, nfcapd decoding what it exports
test-image: deps all image $(IMAGE_TESTS)
	@$(PODMAN) image inspect --format '{{.Size}}' $(IMAGE) | \
		awk '{ printf "== testing $(IMAGE), %.1f MB\n", $$1 / 1e6 }'
	@t0=$$(date +%s); CRITERION_VERBOSITY_LEVEL=1 NSFLOW_IMAGE=$(IMAGE) PODMAN='$(PODMAN)' \
		tests/run.sh -- -- $(IMAGE_TESTS); ret=$$?; \
		echo "== test-image: $$(($$(date +%s) - t0)) s"; exit $$ret

# deploy/daemonset.yaml against the Kubernetes and prometheus-operator schemas, offline once the
# npm packages are in build/k8s (npm install only when they are missing)
K8S_MODULES := $(BUILD)/k8s/node_modules
$(K8S_MODULES):
	npm install --prefix $(BUILD)/k8s --no-audit --no-fund kubernetes-models \
		@kubernetes-models/prometheus-operator js-yaml

k8s-validate: $(K8S_MODULES)
	node tests/tools/k8s_validate.mjs $(K8S_MODULES) deploy/daemonset.yaml

IFACE ?=
ARGS ?=
run: all
	@test -n "$(IFACE)" || { echo "usage: make run IFACE=<interface> [ARGS='...']"; exit 2; }
	$(AGENT) run -i $(IFACE) $(ARGS)

demo: all
	@tests/demo.sh

FORMAT_FILES = $(shell git ls-files '*.c' '*.h' | grep -v '^vmlinux/')
format:
	clang-format -i $(FORMAT_FILES)

format-check:
	@clang-format --dry-run --Werror $(FORMAT_FILES) && echo "format: clean"

clean:
	rm -rf $(BUILD)
