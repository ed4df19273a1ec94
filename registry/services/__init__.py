"""Registry write services: the only code that changes registry records.

Import the submodule you need (`registry.services.registration`, `.catalog`, `.evaluations`, ...): the
package itself imports nothing, so light modules do not pull in the data stack (pandas) with them.
"""
