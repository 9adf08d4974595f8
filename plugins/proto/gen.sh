#!/usr/bin/env bash
# Regenerates the Go code of the plugin protocol (make proto). Needs protoc
# (Debian: protobuf-compiler) and the pinned generators:
#   go install google.golang.org/protobuf/cmd/protoc-gen-go@v1.36.6
#   go install google.golang.org/grpc/cmd/protoc-gen-go-grpc@v1.3.0
# (protoc-gen-go-grpc v1.3.0 targets grpc >= 1.52; go-plugin v1.8.0 pulls
# grpc v1.61.0, which v1.4+ generators do not support.)
set -euo pipefail
cd "$(dirname "$0")"
protoc --go_out=. --go_opt=paths=source_relative \
	--go-grpc_out=. --go-grpc_opt=paths=source_relative \
	parleyv1/plugin.proto
