"""Write requirements.lock (the runtime closure of ioffice, from the versions installed in .venv) and
requirements-test.lock (what the [test] extra adds). Run by scripts/lock.sh."""
from importlib.metadata import distribution, distributions

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name as canon

installed = {canon(d.metadata["Name"]): d for d in distributions()}
env = {"python_version": "3.11", "python_full_version": "3.11.2", "sys_platform": "linux", "platform_system": "Linux",
       "os_name": "posix", "platform_machine": "x86_64", "implementation_name": "cpython",
       "platform_python_implementation": "CPython"}

def closure(roots):
    seen = {}
    stack = list(roots)
    while stack:
        name, extras = stack.pop()
        n = canon(name)
        d = installed.get(n)
        if d is None:
            continue
        key = n
        new_extras = set(extras) - seen.get(key, set())
        if key in seen and not new_extras:
            continue
        seen.setdefault(key, set()).update(extras)
        for r in d.requires or []:
            req = Requirement(r)
            ok = False
            if req.marker is None:
                ok = True
            else:
                for ex in [""] + sorted(extras):
                    if req.marker.evaluate({**env, "extra": ex}):
                        ok = True
                        break
            if ok:
                stack.append((req.name, tuple(req.extras)))
    return seen

io = distribution("ioffice")
runtime_roots, test_roots = [], []
for r in io.requires:
    req = Requirement(r)
    if req.marker is None:
        runtime_roots.append((req.name, tuple(req.extras)))
    elif req.marker.evaluate({**env, "extra": "test"}):
        test_roots.append((req.name, tuple(req.extras)))
rt = closure(runtime_roots)
allt = closure(runtime_roots + test_roots)
rt.pop("ioffice", None)
allt.pop("ioffice", None)


def line(n):
    return f"{installed[n].metadata['Name']}=={installed[n].version}"


hdr = "# Pinned dependencies of ioffice ({}), as installed and tested. Regenerate after changing\n# pyproject.toml: bash scripts/lock.sh\n"
open("requirements.lock", "w").write(hdr.format("runtime") + "\n".join(sorted((line(n) for n in rt), key=str.lower)) + "\n")
open("requirements-test.lock", "w").write(hdr.format("the [test] extra, on top of requirements.lock") + "-r requirements.lock\n" + "\n".join(sorted((line(n) for n in allt if n not in rt), key=str.lower)) + "\n")
print(len(rt), len(allt) - len(rt))
