#!/usr/bin/env python3
"""Executes a Jupyter notebook headless with nbclient and writes the result.

    execute.py INPUT.ipynb OUTPUT.ipynb [--kernel tslab] [--timeout SECONDS]

Unlike `jupyter nbconvert --execute` (which prints an empty error for tslab
cells), a failing cell is reported with its source, its error and whatever
it printed; the partly executed notebook is still written to OUTPUT, and the
exit status is 1. Exit status 0: every cell ran without an error output.
"""
import argparse
import os
import sys
import time

import nbformat
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError, CellTimeoutError, DeadKernelError


def error_text(cell):
    """The error and stream outputs of a cell, as plain text."""
    lines = []
    for out in cell.get("outputs", []):
        if out.get("output_type") == "error":
            lines.append(f"{out.get('ename', '')}: {out.get('evalue', '')}")
            lines.extend(out.get("traceback", []))
        elif out.get("output_type") == "stream":
            lines.append(f"[{out.get('name', 'stream')}] {out.get('text', '').rstrip()}")
    return "\n".join(lines)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("input")
    ap.add_argument("output")
    ap.add_argument("--kernel", default="tslab", help="kernel name (default tslab)")
    ap.add_argument(
        "--timeout", type=int, default=-1, help="seconds per cell (default: no limit)"
    )
    args = ap.parse_args(argv)

    nb = nbformat.read(args.input, as_version=4)
    workdir = os.path.dirname(os.path.abspath(args.input))
    client = NotebookClient(
        nb,
        kernel_name=args.kernel,
        timeout=None if args.timeout < 0 else args.timeout,
        allow_errors=False,
        record_timing=False,
        startup_timeout=120,
        resources={"metadata": {"path": workdir}},
    )
    code_cells = [c for c in nb.cells if c.cell_type == "code"]
    done = {"n": 0, "current": None}
    t0 = time.monotonic()

    def on_cell_execute(cell, cell_index, **_):
        done["current"] = cell_index

    def on_cell_executed(cell, cell_index, execute_reply=None, **_):
        if execute_reply is not None and execute_reply["content"].get("status") != "ok":
            return
        done["n"] += 1
        print(
            f"execute.py: code cell {done['n']}/{len(code_cells)} ran "
            f"({time.monotonic() - t0:.1f} s)",
            file=sys.stderr,
            flush=True,
        )

    client.on_cell_execute = on_cell_execute
    client.on_cell_executed = on_cell_executed
    status = 0
    try:
        client.execute()
    except (CellExecutionError, CellTimeoutError, DeadKernelError) as err:
        status = 1
        # tslab answers a failed cell with status "error" but often without an
        # error output (a type error goes to stderr): the failing cell is the
        # one that was executing.
        i = done["current"]
        failed = (i, nb.cells[i]) if i is not None else None
        print(f"\nexecute.py: {args.input}: execution failed: {type(err).__name__}", file=sys.stderr)
        if failed is not None:
            i, cell = failed
            print(f"--- cell {i + 1} of {len(nb.cells)}: source ---\n{cell.source}", file=sys.stderr)
            print(f"--- cell {i + 1}: error and output ---\n{error_text(cell)}", file=sys.stderr)
        print(f"--- {type(err).__name__} ---\n{str(err).strip()}", file=sys.stderr)
    nbformat.write(nb, args.output)
    print(
        f"execute.py: wrote {args.output} in {time.monotonic() - t0:.1f} s"
        + ("" if status == 0 else " (with the error above)"),
        file=sys.stderr,
    )
    return status


if __name__ == "__main__":
    sys.exit(main())
