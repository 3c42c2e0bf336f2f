//! Input → [`Action`]: the only way the outside world reaches `update`.

use ratatui::crossterm::event::{
    Event, KeyCode, KeyEvent, KeyEventKind, KeyModifiers, MouseButton, MouseEvent, MouseEventKind,
};

use super::app::{App, Popup};

/// Everything the user (or the clock) can ask for.
#[derive(Clone, Debug, PartialEq)]
pub enum Action {
    /// Play or pause.
    TogglePlay,
    /// One event forward (honours the filter).
    Forward,
    /// One event back (honours the filter).
    Back,
    /// Faster / slower play.
    Speed(i8),
    /// Open the "jump to time" prompt.
    GotoPrompt,
    /// Cycle the filter.
    CycleFilter,
    /// Next / previous pane.
    FocusNext,
    /// Previous pane.
    FocusPrev,
    /// Open the inspector.
    Inspect,
    /// Open the host view of the selected event's host.
    HostOfEvent,
    /// Previous / next host in the host view.
    CycleHost(i8),
    /// Open the fault menu.
    FaultMenu,
    /// Toggle the help.
    Help,
    /// Toggle English / Chinese.
    ToggleLang,
    /// Scroll the focused pane (lines; negative is up).
    Scroll(i32),
    /// Enter: jump to the log selection, confirm a popup.
    Confirm,
    /// Esc: close a popup.
    Cancel,
    /// First / last event.
    Home,
    /// Last event computed so far.
    End,
    /// A character typed into a prompt.
    Type(char),
    /// Backspace in a prompt.
    Erase,
    /// A left click at (column, row).
    Click(u16, u16),
    /// The terminal was resized.
    Resize(u16, u16),
    /// Wall-clock time passed while playing (seconds).
    Tick(f64),
    /// Nothing happened for a while: do background work.
    Idle,
    /// Leave.
    Quit,
}

/// Maps a terminal event to an action, given the current popup.
#[must_use]
pub fn from_event(app: &App, ev: &Event) -> Option<Action> {
    match ev {
        Event::Key(k) if k.kind != KeyEventKind::Release => from_key(app, k),
        Event::Mouse(m) => from_mouse(m),
        Event::Resize(w, h) => Some(Action::Resize(*w, *h)),
        _ => None,
    }
}

fn from_mouse(m: &MouseEvent) -> Option<Action> {
    match m.kind {
        MouseEventKind::Down(MouseButton::Left) => Some(Action::Click(m.column, m.row)),
        MouseEventKind::ScrollDown => Some(Action::Scroll(3)),
        MouseEventKind::ScrollUp => Some(Action::Scroll(-3)),
        _ => None,
    }
}

fn from_key(app: &App, k: &KeyEvent) -> Option<Action> {
    let ctrl = k.modifiers.contains(KeyModifiers::CONTROL);
    if ctrl && matches!(k.code, KeyCode::Char('c' | 'q')) {
        return Some(Action::Quit);
    }
    match &app.popup {
        Popup::Goto(..) => return prompt_key(k),
        Popup::Faults(_) => return menu_key(k),
        Popup::Help => {
            return match k.code {
                KeyCode::Char('q') => Some(Action::Quit),
                _ => Some(Action::Cancel),
            };
        }
        Popup::None => {}
    }
    Some(match k.code {
        KeyCode::Char(' ') => Action::TogglePlay,
        KeyCode::Right | KeyCode::Char('n' | 'l') => Action::Forward,
        KeyCode::Left | KeyCode::Char('p' | 'h') => Action::Back,
        KeyCode::Char('+' | '=') => Action::Speed(1),
        KeyCode::Char('-' | '_') => Action::Speed(-1),
        KeyCode::Char('g') => Action::GotoPrompt,
        KeyCode::Char('f') => Action::CycleFilter,
        KeyCode::Tab => Action::FocusNext,
        KeyCode::BackTab => Action::FocusPrev,
        KeyCode::Char('i') => Action::Inspect,
        KeyCode::Char('o') => Action::HostOfEvent,
        KeyCode::Char('[') => Action::CycleHost(-1),
        KeyCode::Char(']') => Action::CycleHost(1),
        KeyCode::Char('k') => Action::FaultMenu,
        KeyCode::Char('?') => Action::Help,
        KeyCode::Char('t' | 'L') => Action::ToggleLang,
        KeyCode::Down | KeyCode::Char('j') => Action::Scroll(1),
        KeyCode::Up => Action::Scroll(-1),
        KeyCode::PageDown => Action::Scroll(10),
        KeyCode::PageUp => Action::Scroll(-10),
        KeyCode::Home => Action::Home,
        KeyCode::End | KeyCode::Char('G') => Action::End,
        KeyCode::Enter => Action::Confirm,
        KeyCode::Esc => Action::Cancel,
        KeyCode::Char('q') => Action::Quit,
        _ => return None,
    })
}

fn prompt_key(k: &KeyEvent) -> Option<Action> {
    Some(match k.code {
        KeyCode::Enter => Action::Confirm,
        KeyCode::Esc => Action::Cancel,
        KeyCode::Backspace => Action::Erase,
        KeyCode::Char(c) => Action::Type(c),
        _ => return None,
    })
}

fn menu_key(k: &KeyEvent) -> Option<Action> {
    Some(match k.code {
        KeyCode::Enter => Action::Confirm,
        KeyCode::Esc | KeyCode::Char('q' | 'k') => Action::Cancel,
        KeyCode::Down | KeyCode::Char('j') => Action::Scroll(1),
        KeyCode::Up => Action::Scroll(-1),
        KeyCode::Char(c) if c.is_ascii_digit() => Action::Type(c),
        _ => return None,
    })
}
