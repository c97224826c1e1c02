# Kernels started by `make book` / `make test` (IPYTHONDIR points here).
# ipykernel >= 7 logs a warning at every start when the transport is TCP
# without CurveZMQ; on loopback during a build that is noise in a log that
# must stay warning-free. Cell output (including stderr) is unaffected.
c = get_config()  # noqa: F821
c.IPKernelApp.log_level = "ERROR"
