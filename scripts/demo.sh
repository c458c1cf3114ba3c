#!/bin/sh
# `make demo`: the pipeline of `make run` fed with generated traffic.
exec "$(dirname "$0")/run.sh" --demo
