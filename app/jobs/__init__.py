"""RQ entry points: ids in, a call into services or the engine, nothing else.

Job arguments are a wire format between deploys: add parameters only at the end, with defaults.
"""
