"""Package discovery, so no package can be left out of the wheel by a hand-kept list.

Every package under edgefer/ is found; the top-level export/ folder (kept at the top of the
tree to show the train -> export -> runtime flow) is installed as `edgefer.export`.
"""

from setuptools import find_packages, setup

setup(
    packages=find_packages(include=["edgefer", "edgefer.*"])
    + [f"edgefer.{name}" for name in find_packages(include=["export", "export.*"])],
    package_dir={"edgefer.export": "export"},
)
