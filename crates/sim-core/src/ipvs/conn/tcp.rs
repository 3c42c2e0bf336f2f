//! The TCP state machine of `ip_vs_proto_tcp.c` (normal, non-`secure_tcp` tables).

use super::TcpState;
use super::TcpState::{
    Close as CL, CloseWait as CW, Established as ES, FinWait as FW, LastAck as LA, Listen as LI,
    SynRecv as SR, SynSent as SS, TimeWait as TW,
};
use crate::ipvs::types::TcpFlags;

/// Which table a segment is looked up in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Dir {
    /// Client → server through the director.
    Input,
    /// Server → client through the director (NAT/FULLNAT).
    Output,
    /// Client → server on an entry flagged `NOOUTPUT` (DR/TUN/Local).
    InputOnly,
}

impl Dir {
    /// The table for a segment on an entry flagged (or not) `NOOUTPUT`; an
    /// output segment on such an entry clears the flag, as `set_state` does.
    #[inline]
    pub fn of(nooutput: &mut bool, output: bool) -> Dir {
        match (output, *nooutput) {
            (true, _) => {
                *nooutput = false;
                Dir::Output
            }
            (false, true) => Dir::InputOnly,
            (false, false) => Dir::Input,
        }
    }
}

type Row = [TcpState; 11];

// next[event][current], columns NO ES SS SR FW TW CL CW LA LI SA (§2.3).
const INPUT: [Row; 4] = [
    /*syn*/ [SR, ES, ES, SR, SR, SR, SR, SR, SR, SR, SR],
    /*fin*/ [CL, CW, SS, TW, TW, TW, CL, CW, LA, LI, TW],
    /*ack*/ [ES, ES, SS, ES, FW, TW, CL, CW, CL, LI, ES],
    /*rst*/ [CL, CL, CL, SR, CL, CL, CL, CL, LA, LI, SR],
];
const OUTPUT: [Row; 4] = [
    /*syn*/ [SS, ES, SS, SR, SS, SS, SS, SS, SS, LI, SR],
    /*fin*/ [TW, FW, SS, TW, FW, TW, CL, TW, LA, LI, TW],
    /*ack*/ [ES, ES, SS, ES, FW, TW, CL, CW, LA, ES, ES],
    /*rst*/ [CL, CL, SS, CL, CL, TW, CL, CL, CL, CL, CL],
];
const INPUT_ONLY: [Row; 4] = [
    /*syn*/ [SR, ES, ES, SR, SR, SR, SR, SR, SR, SR, SR],
    /*fin*/ [CL, FW, SS, TW, FW, TW, CL, CW, LA, LI, TW],
    /*ack*/ [ES, ES, SS, ES, FW, TW, CL, CW, CL, LI, ES],
    /*rst*/ [CL, CL, CL, SR, CL, CL, CL, CL, LA, LI, CL],
];

/// `tcp_state_idx`: rst, else syn, else fin, else ack; `None` if no flag.
#[inline]
fn event(f: TcpFlags) -> Option<usize> {
    if f.rst {
        Some(3)
    } else if f.syn {
        Some(0)
    } else if f.fin {
        Some(1)
    } else if f.ack {
        Some(2)
    } else {
        None
    }
}

/// `tcp_state_active`: whether an entry in `s` counts in ActiveConn
/// (`ip_vs_proto_tcp.c`, `tcp_state_active_table`, kernels >= 4.10).
#[must_use]
#[inline]
pub fn is_active(s: TcpState) -> bool {
    matches!(
        s,
        TcpState::Established | TcpState::SynSent | TcpState::SynRecv | TcpState::SynAck
    )
}

/// The next state; a segment without any of the four flags gives CLOSE.
#[must_use]
#[inline]
pub fn next(dir: Dir, cur: TcpState, f: TcpFlags) -> TcpState {
    let Some(ev) = event(f) else {
        return CL;
    };
    let table = match dir {
        Dir::Input => &INPUT,
        Dir::Output => &OUTPUT,
        Dir::InputOnly => &INPUT_ONLY,
    };
    table[ev][cur as usize]
}

#[cfg(test)]
mod tests {
    use super::*;
    const NO: TcpState = TcpState::None;

    #[test]
    fn dr_close_sits_in_fin_wait() {
        let mut s = NO;
        for f in [
            TcpFlags::SYN,
            TcpFlags::ACK,
            TcpFlags::ACK,
            TcpFlags::FIN_ACK,
            TcpFlags::ACK,
        ] {
            s = next(Dir::InputOnly, s, f);
        }
        assert_eq!(s, FW);
        assert_eq!(next(Dir::InputOnly, ES, TcpFlags::RST), CL);
        assert_eq!(next(Dir::InputOnly, ES, TcpFlags::NONE), CL);
    }

    #[test]
    fn nat_client_closes_first() {
        let steps = [
            (Dir::Input, TcpFlags::SYN, SR),
            (Dir::Output, TcpFlags::SYN_ACK, SR),
            (Dir::Input, TcpFlags::ACK, ES),
            (Dir::Input, TcpFlags::FIN_ACK, CW),
            (Dir::Output, TcpFlags::ACK, CW),
            (Dir::Output, TcpFlags::FIN_ACK, TW),
            (Dir::Input, TcpFlags::ACK, TW),
        ];
        let mut s = NO;
        for (d, f, want) in steps {
            s = next(d, s, f);
            assert_eq!(s, want, "{d:?} {f:?}");
        }
    }

    #[test]
    fn nat_server_closes_first() {
        let mut s = ES;
        s = next(Dir::Output, s, TcpFlags::FIN_ACK);
        assert_eq!(s, FW);
        s = next(Dir::Input, s, TcpFlags::FIN_ACK);
        assert_eq!(s, TW);
    }
}
