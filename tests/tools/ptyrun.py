# ptyrun.py PROG ARGS — run PROG on a new pty of 33 rows and 101 columns; print
# what it wrote (repr) and exit with its status (tests of -t).
import os, pty, sys, fcntl, termios, struct, select
pid, fd = pty.fork()
if pid == 0:
    os.execvp(sys.argv[1], sys.argv[1:])
fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack('HHHH', 33, 101, 0, 0))
out = b''
while True:
    try:
        r,_,_ = select.select([fd],[],[],10)
        if not r: break
        d = os.read(fd, 4096)
    except OSError:
        break
    if not d: break
    out += d
_, st = os.waitpid(pid, 0)
sys.stdout.write(repr(out) + "\n")
sys.exit(os.waitstatus_to_exitcode(st))
