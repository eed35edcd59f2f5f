# The compiled level walk (_levels.c): an extension module with no Python functions, loaded
# with ctypes by backflush.domain.rollup from its __file__.
