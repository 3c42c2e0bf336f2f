//! Terminal setup and the event loop.
//!
//! `ratatui::init` enters raw mode and the alternate screen and installs a
//! panic hook that restores the terminal; mouse capture is added here and
//! undone on every exit path (return, error, panic). Ctrl-C arrives as a
//! key in raw mode and quits like `q`.

use std::io::{self, stdout};
use std::time::{Duration, Instant};

use ratatui::DefaultTerminal;
use ratatui::crossterm::event::{self, DisableMouseCapture, EnableMouseCapture};
use ratatui::crossterm::execute;

use super::action::{Action, from_event};
use super::app::App;
use super::update::update;
use super::view::view;

/// How often a frame is drawn while playing.
const FRAME: Duration = Duration::from_millis(33);

/// Runs the app in the real terminal until the user quits.
///
/// # Errors
/// Terminal I/O errors.
pub fn run(app: &mut App) -> io::Result<()> {
    let mut terminal = ratatui::init();
    let hook = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        let _ = execute!(stdout(), DisableMouseCapture);
        hook(info);
    }));
    let res = execute!(stdout(), EnableMouseCapture).and_then(|()| event_loop(&mut terminal, app));
    let _ = execute!(stdout(), DisableMouseCapture);
    ratatui::restore();
    res
}

fn event_loop(terminal: &mut DefaultTerminal, app: &mut App) -> io::Result<()> {
    let s = terminal.size()?;
    update(app, Action::Resize(s.width, s.height));
    let mut last = Instant::now();
    let mut dirty = true;
    while !app.quit {
        if dirty {
            terminal.draw(|f| view(app, f))?;
            dirty = false;
            // Lets the end-to-end test check that a panic restores the terminal.
            if std::env::var_os("LVSLAB_TUI_TEST_PANIC").is_some() {
                panic!("LVSLAB_TUI_TEST_PANIC is set: panicking on purpose");
            }
        }
        let timeout = if app.play.on {
            FRAME
        } else if app.busy {
            Duration::from_millis(2)
        } else {
            Duration::from_millis(500)
        };
        if event::poll(timeout)? {
            let ev = event::read()?;
            if let Some(a) = from_event(app, &ev) {
                update(app, a);
                dirty = true;
            }
        } else if app.busy && !app.play.on {
            update(app, Action::Idle);
        }
        let now = Instant::now();
        let dt = now.duration_since(last).as_secs_f64();
        last = now;
        if app.play.on {
            update(app, Action::Tick(dt));
            dirty = true;
        }
    }
    Ok(())
}
