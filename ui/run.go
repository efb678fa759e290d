package ui

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"sync/atomic"
	"syscall"
	"time"

	tea "charm.land/bubbletea/v2"
	"golang.org/x/sys/unix"

	"github.com/vitals-dev/vitals/model"
	"github.com/vitals-dev/vitals/ui/common"
)

// Run starts the interactive UI and blocks until the user quits or ctx ends.
// The terminal is restored on every exit path (bubbletea restores it on
// return, on panic and on SIGINT/SIGTERM), before a stop for job control,
// and when the terminal itself goes away, which ends the UI as SIGHUP does.
func Run(ctx context.Context, store *model.Store, noColor bool, opts Options) error {
	ctx, terminalGone := context.WithCancelCause(ctx)
	defer terminalGone(nil)
	app := New(common.NewContext(noColor), store, opts)
	// A monitor redraws when data, input or a resize arrives, not at 60 FPS:
	// the frame ticker only flushes changed frames; 15 wakeups a second keep
	// key echo under 70 ms at a negligible cost.
	//
	// Signals have one owner, the caller's ctx (SIGINT, SIGTERM, SIGHUP):
	// bubbletea's own handler would race it for the same SIGTERM, and when
	// ctx wins, its handler blocks forever sending a QuitMsg to an event
	// loop that has gone, and the program never exits.
	jc := &jobControl{}
	popts := []tea.ProgramOption{tea.WithContext(ctx), tea.WithFPS(15), tea.WithoutSignalHandler(),
		tea.WithFilter(jc.filter)}
	in, out, closeTerminal, err := openTerminal(terminalGone)
	if err != nil {
		return err
	}
	defer closeTerminal()
	if in != nil {
		popts = append(popts, tea.WithInput(in))
	}
	if out != nil {
		popts = append(popts, tea.WithOutput(out))
	}
	p := tea.NewProgram(app, popts...)
	jc.p = p
	stopJobControl := jc.start()
	_, err = p.Run()
	stopJobControl()
	// SIGTERM or SIGHUP cancel ctx, and so does a terminal that went away:
	// a requested stop, not a failure.
	if errors.Is(err, tea.ErrProgramKilled) && ctx.Err() != nil {
		return nil
	}
	return err
}

// --- a terminal that goes away ----------------------------------------------

// terminalFile is the terminal, input or output, that reports a failed read
// or write: a pane that is destroyed or a connection that drops hangs the
// terminal up (reads return EOF, writes EIO), and a vitals that was not sent
// SIGHUP (started through su, or setsid) would otherwise run on for ever,
// drawing into nothing. bubbletea treats EOF as the end of input and
// ignores write errors.
type terminalFile struct {
	*os.File
	gone func(error)
}

func (f terminalFile) Read(b []byte) (int, error) {
	n, err := f.File.Read(b)
	if err != nil {
		// Raw mode reads at least one byte: EOF is a hangup, not Ctrl-D.
		f.gone(fmt.Errorf("read the terminal: %w", err))
	}
	return n, err
}

func (f terminalFile) Write(b []byte) (int, error) {
	n, err := f.File.Write(b)
	if err != nil {
		f.gone(fmt.Errorf("write the terminal: %w", err))
	}
	return n, err
}

// openTerminal is the input and output bubbletea would use (standard input,
// or /dev/tty when that is not a terminal; standard output), each wrapped
// in a terminalFile when it is a terminal. Nil means bubbletea's default.
func openTerminal(gone func(error)) (in, out *terminalFile, closeAll func(), err error) {
	closeAll = func() {}
	if isTerminal(os.Stdin) {
		in = &terminalFile{os.Stdin, gone}
	} else if tty, _, err := tea.OpenTTY(); err == nil {
		in = &terminalFile{tty, gone}
		closeAll = func() { tty.Close() }
	}
	if isTerminal(os.Stdout) {
		out = &terminalFile{os.Stdout, gone}
	}
	return in, out, closeAll, nil
}

func isTerminal(f *os.File) bool {
	_, err := unix.IoctlGetTermios(int(f.Fd()), unix.TCGETS)
	return err == nil
}

// --- job control ---------------------------------------------------------------

// jobControl stops vitals as the shell expects on Ctrl-Z or an external
// SIGTSTP, with the terminal restored first (alternate screen off, mouse
// off, cursor shown, cooked mode), and re-enters the screen on SIGCONT, as
// htop does. bubbletea's own suspend stops the process with SIGTSTP, which
// never stops a process that has ever asked to be notified of SIGTSTP (Go
// keeps its handler installed), so the stop is SIGSTOP, sent to ourselves
// from inside a tea.Exec: the program releases the terminal before it and
// takes it back after.
type jobControl struct {
	p *tea.Program
	// suspending is set from the request to stop until SIGCONT.
	suspending atomic.Bool
	// resumed receives the SIGCONT that ends a suspension.
	resumed chan struct{}
	// resumedAt is when the last suspension ended (unix nanoseconds): a
	// SIGTSTP that vitals sent its own process group reaches it late and
	// must not stop it again.
	resumedAt atomic.Int64
}

// suspendRequestMsg asks for a stop (the Ctrl-Z key): group says to stop
// the rest of vitals' process group too, as the terminal driver would.
type suspendRequestMsg struct{ group bool }

// resumedMsg is delivered after a stop, with the terminal taken back.
type resumedMsg struct{}

func (j *jobControl) start() (stop func()) {
	j.resumed = make(chan struct{}, 1)
	sigs := make(chan os.Signal, 4)
	signal.Notify(sigs, syscall.SIGTSTP, syscall.SIGCONT)
	done := make(chan struct{})
	go func() {
		for {
			select {
			case <-done:
				return
			case s := <-sigs:
				switch {
				case s == syscall.SIGCONT && j.suspending.Load():
					select {
					case j.resumed <- struct{}{}:
					default:
					}
				case s == syscall.SIGCONT:
					// Stopped by something that could not tell us (SIGSTOP):
					// the shell may have changed the terminal meanwhile.
					go j.p.Send(j.execMsg(reenter{}))
				case j.suspending.Load() || time.Since(time.Unix(0, j.resumedAt.Load())) < 200*time.Millisecond:
				default:
					go j.p.Send(suspendRequestMsg{})
				}
			}
		}
	}()
	return func() {
		signal.Stop(sigs)
		close(done)
	}
}

// filter turns a stop request into the tea.Exec that carries it out.
func (j *jobControl) filter(_ tea.Model, msg tea.Msg) tea.Msg {
	if r, ok := msg.(suspendRequestMsg); ok {
		if j.p == nil || !j.suspending.CompareAndSwap(false, true) {
			return nil
		}
		if orphanedProcessGroup() {
			// Nobody could continue us: the kernel drops job-control
			// stops in such a group, and so do we.
			j.suspending.Store(false)
			return nil
		}
		return j.execMsg(stopper{j: j, group: r.group})
	}
	return msg
}

// execMsg is the message of tea.Exec(c): the event loop runs c with the
// terminal released, then takes it back and delivers resumedMsg.
func (j *jobControl) execMsg(c tea.ExecCommand) tea.Msg {
	return tea.Exec(c, func(error) tea.Msg { return resumedMsg{} })()
}

// stopper is the stop itself, run by the event loop with the terminal
// released.
type stopper struct {
	execCommand
	j     *jobControl
	group bool
}

func (s stopper) Run() error {
	defer func() {
		s.j.resumedAt.Store(time.Now().UnixNano())
		s.j.suspending.Store(false)
	}()
	if s.group && syscall.Getpgrp() != syscall.Getpid() {
		// Ctrl-Z in a cooked terminal stops the whole foreground group
		// (a wrapper script that started vitals); our own copy is ignored.
		_ = syscall.Kill(0, syscall.SIGTSTP)
	}
	select { // a SIGCONT that came before the stop does not end it
	case <-s.j.resumed:
	default:
	}
	if err := syscall.Kill(syscall.Getpid(), syscall.SIGSTOP); err != nil {
		return err
	}
	<-s.j.resumed
	return nil
}

// reenter releases and takes back the terminal: raw mode, the alternate
// screen and a full repaint, after a stop vitals did not see coming.
type reenter struct{ execCommand }

func (reenter) Run() error {
	// bubbletea's old frame goroutine stops the shared frame ticker only
	// after it has been told to stop; taking the terminal back at once
	// restarts the ticker first, and that late Stop then freezes the
	// screen for good (bubbletea v2.0.10). Give it time to finish.
	time.Sleep(50 * time.Millisecond)
	return nil
}

// execCommand is the rest of tea.ExecCommand: a stop uses no I/O.
type execCommand struct{}

func (execCommand) SetStdin(io.Reader)  {}
func (execCommand) SetStdout(io.Writer) {}
func (execCommand) SetStderr(io.Writer) {}

// orphanedProcessGroup reports whether vitals' process group is orphaned:
// no member has a parent in another group of the same session, so no shell
// could continue it after a stop. It asks only about vitals and its parent
// (the common cases: a shell's job, a wrapper in the job, a terminal
// multiplexer's or ssh's command as the session's own group).
func orphanedProcessGroup() bool {
	pgrp := syscall.Getpgrp()
	sid, err := unix.Getsid(0)
	if err != nil {
		return false
	}
	if pgrp == sid {
		return true // the session leader's group: its parent is outside the session
	}
	ppid := os.Getppid()
	ppgrp, err1 := syscall.Getpgid(ppid)
	psid, err2 := unix.Getsid(ppid)
	if err1 != nil || err2 != nil {
		return false
	}
	if ppgrp != pgrp {
		return psid != sid
	}
	return false // a wrapper in our group: its own parent is the shell
}
