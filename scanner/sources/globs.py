"""Path globs as .sprawlignore and --exclude read them: gitignore-like, on paths relative to a scanned root."""
from __future__ import annotations

import fnmatch
from pathlib import PurePosixPath


def path_matches(relpath: str, glob: str) -> bool:
    """gitignore-like matching: a glob with no slash matches any path component; ** spans folders."""
    posix = PurePosixPath(relpath.replace("\\", "/"))
    glob = glob.rstrip("/")
    if "/" not in glob:
        return any(fnmatch.fnmatchcase(part, glob) for part in posix.parts)
    glob = glob.lstrip("/")
    if fnmatch.fnmatchcase(str(posix), glob):
        return True
    # "dir/**" also matches everything below dir; "a/**/b" matches a/b.
    if glob.endswith("/**") and (str(posix) + "/").startswith(glob[:-2]):
        return True
    return fnmatch.fnmatchcase(str(posix), glob.replace("**/", ""))
