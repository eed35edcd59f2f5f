"""Builds the roll-up's optional compiled level walk (``backflush.domain._levels``).

Everything else is in ``pyproject.toml``. Without a C compiler (GCC or Clang: the kernel
uses 128-bit integers) the build skips the extension and the roll-up runs on NumPy arrays.
"""

from setuptools import Extension, setup

setup(
    ext_modules=[
        Extension(
            "backflush.domain._levels",
            ["src/backflush/domain/_levels.c"],
            extra_compile_args=["-O2"],
            optional=True,
        )
    ]
)
