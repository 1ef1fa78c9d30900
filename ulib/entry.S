# Program entry.  The first env starts here with sp = USTACKTOP; libmain()
# sets up the library OS, calls main() and exits with its result.
.section .text.start
.globl _start
_start:
        call    libmain
1:      j       1b
