//! Real-server capacity at packet fidelity: when a `[[server]]` section
//! gives a host workers, a queue and service times, httpd's answer to a
//! request waits for a free worker and the service time instead of leaving
//! at once. The same [`ServerModel`] drives flow fidelity.
//!
//! A request that finds the queue full is reset (RST, as with
//! `tcp_abort_on_overflow=1`). A server's `outages` apply at flow fidelity
//! only; at packet fidelity use a timed `poweroff` or `systemctl stop httpd`.

use std::collections::BTreeMap;
use std::sync::Arc;

use super::{Event, World};
use crate::host::HostId;
use crate::host::tcp::SockKey;
use crate::packet::TcpFlags;
use crate::server_model::{Admit, ServerModel, ServerSpec};
use crate::time::SimDuration;

/// One host's httpd capacity and the answers it holds back.
#[derive(Debug)]
pub struct HttpdModel {
    model: ServerModel,
    /// Request id → (socket, response bytes).
    pending: BTreeMap<u32, (SockKey, Arc<[u8]>)>,
    next_id: u32,
}

impl World {
    /// Gives host `h`'s httpd the capacity `spec` (service times drawn from
    /// the stream `httpd/<host>`).
    pub fn set_httpd_model(&mut self, h: HostId, spec: ServerSpec) {
        let name = self.hosts[h].name.clone();
        let rng = crate::rng::stream(self.seed, &format!("httpd/{name}"));
        self.httpd_models.insert(
            h,
            HttpdModel {
                model: ServerModel::new(spec, rng),
                pending: BTreeMap::new(),
                next_id: 0,
            },
        );
    }

    /// httpd on `h` has `data` ready for `key`: `None` when the host has no
    /// model (send now), else the model took it (sent later, or reset).
    pub(crate) fn httpd_hold(&mut self, h: HostId, key: SockKey, data: Arc<[u8]>) -> Option<()> {
        let now = self.now.as_nanos();
        let m = self.httpd_models.get_mut(&h)?;
        let id = m.next_id;
        m.next_id = m.next_id.wrapping_add(1);
        match m.model.arrive(now, id) {
            Admit::Start(service) => {
                m.pending.insert(id, (key, data));
                self.queue.push(
                    self.now + SimDuration(service),
                    Event::HttpdDone { host: h, id },
                );
            }
            Admit::Queued => {
                m.pending.insert(id, (key, data));
            }
            Admit::Full | Admit::Down => {
                self.httpd_reset(h, key);
            }
        }
        Some(())
    }

    /// A worker of `h` finished request `id`: send its answer, start the next.
    pub(crate) fn httpd_done(&mut self, h: HostId, id: u32) {
        let now = self.now.as_nanos();
        let Some(m) = self.httpd_models.get_mut(&h) else {
            return;
        };
        let done = m.pending.remove(&id);
        if let Some((next, service)) = m.model.finish(now) {
            self.queue.push(
                self.now + SimDuration(service),
                Event::HttpdDone { host: h, id: next },
            );
        }
        if let Some((key, data)) = done {
            self.http_send(h, key, data);
        }
    }

    fn httpd_reset(&mut self, h: HostId, key: SockKey) {
        let Some(s) = self.hosts[h].tcp.socks.remove(&key) else {
            return;
        };
        self.tr(
            h,
            false,
            crate::trace::TraceKind::App {
                text: format!(
                    "httpd queue full: connection from {}:{} reset",
                    key.2, key.3
                ),
            },
        );
        self.tcp_send(
            h,
            key,
            s.snd_nxt,
            s.rcv_nxt,
            TcpFlags::RST_ACK,
            crate::packet::AppData::None,
        );
    }
}
