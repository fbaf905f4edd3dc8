#!/usr/bin/env bash
# The transcription tests again with one and with two threads, and with Whisper at float32 as well
# as int8: kernels and thread counts change the models' numbers slightly, and every test must hold
# whatever the CPU. Runs after the README's test command (which runs them once at the defaults).
set -euo pipefail
cd "$(dirname "$0")/.."
for variant in "1 int8" "1 float32" "2 int8" "2 float32"; do
    read -r threads compute_type <<<"$variant"
    echo "== tests/unit/transcribe with OMP_NUM_THREADS=$threads, Whisper $compute_type"
    OMP_NUM_THREADS=$threads EARSHOT_TEST_COMPUTE_TYPE=$compute_type .venv/bin/python -m pytest -q -p no:cacheprovider tests/unit/transcribe
done
