# eBPF code generation, included by the top-level Makefile.
#
#   make generate        install clang/llvm/libbpf-dev/bpftool when missing,
#                        then recompile every bpf/*/*.bpf.c with bpf2go
#   make check-generate  recompile into a temporary copy of the module and
#                        compare with the committed output (needs clang)
#   make vmlinux         re-dump bpf/vmlinux.h from this kernel's BTF
#
# The generated *_bpfel.go and *_bpfel.o are committed, so building and
# testing vitals needs no clang. With the same clang (Debian 12: clang 14)
# and libbpf headers the objects are byte-for-byte reproducible: bpf2go
# compiles with paths relative to the package and strips DWARF. Another
# clang version emits different (equally valid) bytes; check-generate then
# says so and compares the program and map names instead.

BPF_PKGS   := ./bpf/...
# command:package pairs for apt-get.
BPF_TOOLS  := clang:clang llc:llvm llvm-strip:llvm bpftool:bpftool /usr/include/bpf/bpf_helpers.h:libbpf-dev

.PHONY: generate generate-deps check-generate vmlinux

generate-deps:
	@missing=""; for t in $(BPF_TOOLS); do c=$${t%%:*}; \
	  if [ "$${c#/}" != "$$c" ]; then [ -e "$$c" ] || missing="$$missing $${t#*:}"; \
	  else command -v $$c >/dev/null 2>&1 || missing="$$missing $${t#*:}"; fi; done; \
	if [ -n "$$missing" ]; then \
	  echo "installing BPF tools:$$missing"; \
	  SUDO=""; [ "$$(id -u)" = 0 ] || SUDO="sudo"; \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq $$missing >/dev/null; \
	fi

generate: generate-deps
	$(GO) generate $(BPF_PKGS)

vmlinux: generate-deps
	bpftool btf dump file /sys/kernel/btf/vmlinux format c > bpf/vmlinux.h

# Regenerates in a scratch copy of go.mod, go.sum and bpf/, so the working
# tree is never touched, then diffs. Skipped (not failed) without clang.
check-generate:
	@if ! command -v clang >/dev/null 2>&1; then echo "check-generate: no clang, skipped"; exit 0; fi; \
	tmp=$$(mktemp -d); trap 'rm -rf "$$tmp"' EXIT; \
	cp go.mod go.sum "$$tmp"/ && cp -r bpf "$$tmp"/ && \
	(cd "$$tmp" && $(GO) generate $(BPF_PKGS)) || exit 1; \
	status=0; \
	for f in $$(cd bpf && find . -name '*_bpfel.go' -o -name '*_bpfel.o'); do \
	  cmp -s "bpf/$$f" "$$tmp/bpf/$$f" && continue; \
	  case "$$f" in \
	  *.go) echo "check-generate: bpf/$$f differs from a fresh bpf2go run:"; \
	        diff -u "bpf/$$f" "$$tmp/bpf/$$f" | head -40; status=1;; \
	  *.o)  echo "check-generate: bpf/$$f is not byte-identical ($$(clang --version | head -1));" \
	             "comparing program and map names"; \
	        names() { bpftool btf dump file "$$1" 2>/dev/null | grep -oE "(FUNC|VAR) '[^']+'" | sort; }; \
	        if ! diff <(names "bpf/$$f") <(names "$$tmp/bpf/$$f"); then \
	          echo "check-generate: bpf/$$f programs or maps differ: run make generate"; status=1; fi;; \
	  esac; \
	done; \
	[ $$status = 0 ] && echo "check-generate: committed BPF output matches the sources"; exit $$status
