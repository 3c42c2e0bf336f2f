//! One-line teaching explanations for each trace record, in English and
//! Simplified Chinese (the tutorial's language).
//!
//! Explanations are written from the record alone plus a few lab facts
//! (which addresses are VIPs), so they follow whatever the engine does.

use sim_core::host::netfilter::Hook;
use sim_core::packet::{ArpOp, Frame, FramePayload, IpPayload, Ipv4Packet};
use sim_core::trace::{TraceKind, TraceRecord};

use super::classify::{Lab, innermost};

/// The UI language.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum Lang {
    /// English.
    #[default]
    En,
    /// Simplified Chinese.
    Zh,
}

impl Lang {
    /// The other language.
    #[must_use]
    pub fn toggled(self) -> Lang {
        match self {
            Lang::En => Lang::Zh,
            Lang::Zh => Lang::En,
        }
    }
    /// Picks the string for this language.
    #[must_use]
    pub fn pick<T>(self, en: T, zh: T) -> T {
        match self {
            Lang::En => en,
            Lang::Zh => zh,
        }
    }
}

/// The explanation of one record.
#[must_use]
pub fn explain(r: &TraceRecord, lab: &Lab, lang: Lang) -> String {
    let h = &*r.host;
    match &r.kind {
        TraceKind::Tx { iface, frame } => tx(h, iface, frame, lab, lang),
        TraceKind::Rx { iface, frame } => rx(h, iface, frame, lab, lang),
        TraceKind::Hook { hook, verdict, .. } => {
            let v = verdict.name();
            format!("{} {}: {}", hook.name(), v, hook_text(*hook, lang))
        }
        TraceKind::Route { text } => lang.pick(
            format!("{h} looks up its routing table: {text}."),
            format!("{h} 查路由表：{text}。"),
        ),
        TraceKind::Ipvs { text } => lang.pick(
            format!("IPVS on {h} (in LOCAL_IN): {text}"),
            format!("{h} 上的 IPVS（挂在 LOCAL_IN）：{text}"),
        ),
        TraceKind::Rewrite {
            text,
            before,
            after,
        } => rewrite(h, text, before, after, lang),
        TraceKind::Drop { reason } => lang.pick(
            format!("{h} drops the packet: {reason}."),
            format!("{h} 丢弃了该报文：{reason}。"),
        ),
        TraceKind::Neigh { text } => lang.pick(
            format!("ARP cache on {h}: {text}."),
            format!("{h} 的 ARP 缓存：{text}。"),
        ),
        TraceKind::App { text } => lang.pick(
            format!("Application on {h}: {text}"),
            format!("{h} 上的应用：{text}"),
        ),
        TraceKind::Command { cmd, note } => command(h, cmd, note, lang),
        TraceKind::Keepalived { text } => keepalived(h, text, lang),
        TraceKind::Log { text } => lang.pick(
            format!("iptables LOG on {h}: {text}"),
            format!("{h} 的 iptables LOG：{text}"),
        ),
    }
}

fn hook_text(hook: Hook, lang: Lang) -> &'static str {
    match hook {
        Hook::PreRouting => lang.pick(
            "the first netfilter hook every arriving packet crosses, before routing.",
            "每个进入的报文最先经过的 netfilter 钩子，在路由之前。",
        ),
        Hook::Input => lang.pick(
            "the packet is for a local address; IPVS hooks here and takes packets for virtual services.",
            "报文发往本机地址；IPVS 挂在这里，截走发往虚拟服务的报文。",
        ),
        Hook::Forward => lang.pick(
            "the packet is routed through this host (ip_forward=1).",
            "报文经本机转发（ip_forward=1）。",
        ),
        Hook::Output => lang.pick(
            "a packet generated on this host starts its way out.",
            "本机产生的报文开始发出。",
        ),
        Hook::PostRouting => lang.pick(
            "the last hook before the packet leaves (SNAT/MASQUERADE happen here).",
            "报文离开前的最后一个钩子（SNAT/MASQUERADE 在此）。",
        ),
    }
}

fn tx(h: &str, iface: &str, f: &Frame, lab: &Lab, lang: Lang) -> String {
    let ip = match &f.payload {
        FramePayload::Arp(a) => {
            return match a.op {
                _ if a.is_gratuitous() => lang.pick(
                    format!("{h} announces {} is at {} (gratuitous ARP): neighbours update their caches — this is how a new master takes over the VIP.", a.spa, a.sha),
                    format!("{h} 宣告 {} 在 {}（免费 ARP）：邻居据此更新缓存——新的 MASTER 就是这样接管 VIP 的。", a.spa, a.sha),
                ),
                ArpOp::Request => lang.pick(
                    format!("{h} needs the MAC address of {} before it can send, so it broadcasts “who has {}?” on {iface}.", a.tpa, a.tpa),
                    format!("{h} 发送前需要 {} 的 MAC 地址，于是在 {iface} 上广播“谁是 {}？”。", a.tpa, a.tpa),
                ),
                ArpOp::Reply => lang.pick(
                    format!("{h} answers: {} is at {}. Only a host with the address on this NIC answers (real servers hide the VIP with arp_ignore).", a.spa, a.sha),
                    format!("{h} 应答：{} 在 {}。只有在该网卡上配置了此地址的主机才应答（RS 用 arp_ignore 隐藏 VIP）。", a.spa, a.sha),
                ),
            };
        }
        FramePayload::Ipv4(p) => p,
    };
    if let IpPayload::Ipip(inner) = &ip.payload {
        return lang.pick(
            format!("{h} sends the packet inside an IPIP tunnel to {} (LVS-TUN): the inner header still says {} → {}.", ip.dst, inner.src, inner.dst),
            format!("{h} 将报文封装在 IPIP 隧道中发往 {}（LVS-TUN）：内层头仍是 {} → {}。", ip.dst, inner.src, inner.dst),
        );
    }
    if let IpPayload::Vrrp(v) = &ip.payload {
        return lang.pick(
            format!("{h} is VRRP master of vrid {} (priority {}): it advertises every {}s; backups stay quiet while they hear it.", v.vrid, v.priority, v.interval),
            format!("{h} 是 vrid {} 的 VRRP MASTER（优先级 {}）：每 {} 秒通告一次；BACKUP 收到通告就保持静默。", v.vrid, v.priority, v.interval),
        );
    }
    if lab.kind(f) == super::classify::PacketKind::Check {
        let ip = innermost(ip);
        if !lab.director_addrs.contains(&ip.src) && ip.tcp().is_some_and(|t| t.flags.rst) {
            return lang.pick(
                format!("{h} refuses {}'s health check (RST: nothing listens); keepalived counts a failure.", ip.dst),
                format!("{h} 拒绝了 {} 的健康检查（RST：没有服务在监听）；keepalived 记为失败。", ip.dst),
            );
        }
        if !lab.director_addrs.contains(&ip.src) {
            return lang.pick(
                format!("{h} answers {}'s health check on its real address.", ip.dst),
                format!("{h} 在其真实地址上回应 {} 的健康检查。", ip.dst),
            );
        }
        return lang.pick(
            format!("health check: {h} talks to {} directly (not through the VIP); a refused or unanswered check takes the real server out of the IPVS table.", ip.dst),
            format!("健康检查：{h} 直接访问 {}（不经过 VIP）；检查被拒绝或无应答时，该 RS 会被移出 IPVS 表。", ip.dst),
        );
    }
    tx_tcp(h, iface, ip, lab, lang)
}

fn tx_tcp(h: &str, iface: &str, ip: &Ipv4Packet, lab: &Lab, lang: Lang) -> String {
    let ip = innermost(ip);
    let Some(t) = ip.tcp() else {
        return lang.pick(
            format!("{h} sends {} → {} on {iface}.", ip.src, ip.dst),
            format!("{h} 在 {iface} 上发送 {} → {}。", ip.src, ip.dst),
        );
    };
    let (s, d) = (ip.src, ip.dst);
    if t.flags.syn && !t.flags.ack {
        return lang.pick(
            format!("{h} opens a TCP connection to {d}:{} (SYN).", t.dport),
            format!("{h} 向 {d}:{} 发起 TCP 连接（SYN）。", t.dport),
        );
    }
    if lab.vips.contains(&s) {
        return lang.pick(
            format!("{h} answers from the VIP {s} straight to {d}: with LVS-DR/TUN the reply does not go back through the director."),
            format!("{h} 以 VIP {s} 为源地址直接回复 {d}：DR/TUN 模式下响应不经过调度器。"),
        );
    }
    if t.flags.rst {
        return lang.pick(
            format!("{h} refuses or aborts the connection (RST) to {d}."),
            format!("{h} 拒绝或中止与 {d} 的连接（RST）。"),
        );
    }
    lang.pick(
        format!(
            "{h} sends TCP [{}] {s}:{} → {d}:{} on {iface}.",
            t.flags, t.sport, t.dport
        ),
        format!(
            "{h} 在 {iface} 上发送 TCP [{}] {s}:{} → {d}:{}。",
            t.flags, t.sport, t.dport
        ),
    )
}

fn rx(h: &str, iface: &str, f: &Frame, lab: &Lab, lang: Lang) -> String {
    if let Some(ip) = f.ipv4().map(innermost)
        && lab.vips.contains(&ip.dst)
    {
        let d = ip.dst;
        return if lab.vip_hidden.contains(h) {
            lang.pick(
                format!("{h} accepts this packet for the VIP {d}: the VIP is configured on its lo (or tunl0), and arp_ignore/arp_announce keep it from ever answering ARP for it."),
                format!("{h} 接收发往 VIP {d} 的报文：VIP 配置在它的 lo（或 tunl0）上，arp_ignore/arp_announce 保证它从不应答对 VIP 的 ARP。"),
            )
        } else {
            lang.pick(
                format!("{h} receives the request for the VIP {d}: it holds the VIP on a NIC, so clients' ARP for the VIP found it. IPVS will see the packet at LOCAL_IN."),
                format!("{h} 收到发往 VIP {d} 的请求：它在网卡上持有 VIP，客户端对 VIP 的 ARP 找到的就是它。IPVS 将在 LOCAL_IN 处理该报文。"),
            )
        };
    }
    lang.pick(
        format!("{h} receives the frame on {iface}; its destination MAC is this NIC (or broadcast), so it is processed."),
        format!("{h} 在 {iface} 上收到该帧；目标 MAC 是本网卡（或广播），因此处理它。"),
    )
}

/// The forwarding method named in the engine's rewrite text.
fn rewrite_by_name(h: &str, text: &str, lang: Lang) -> Option<String> {
    let t = text.to_ascii_uppercase();
    let words: Vec<&str> = t.split(|c: char| !c.is_ascii_alphanumeric()).collect();
    let has = |w: &str| words.contains(&w);
    let s = if has("FULLNAT") {
        lang.pick(
            format!("FULLNAT: {h} rewrites both source (to its local address) and destination (to the real server), so replies come back to {h} whatever the real server's gateway is."),
            format!("FULLNAT：{h} 同时改写源地址（改为本机 local address）和目标地址（改为 RS），所以无论 RS 网关如何，响应都会回到 {h}。"),
        )
    } else if has("NAT") && (has("REPLY") || has("SOURCE")) {
        lang.pick(
            format!("NAT reply: {h} puts the VIP back as the source, so the client sees an answer from the address it called."),
            format!("NAT 响应：{h} 把源地址改回 VIP，客户端看到的是它访问的地址发回的响应。"),
        )
    } else if has("NAT") {
        lang.pick(
            format!("NAT: {h} rewrites the destination VIP:port to the real server (DNAT); the reply must come back through {h} to be rewritten back."),
            format!("NAT：{h} 把目标 VIP:端口 改写为 RS（DNAT）；响应必须经过 {h} 才能改写回来。"),
        )
    } else if has("TUN") || has("IPIP") {
        lang.pick(
            format!("TUN: {h} wraps the packet in a new IP header to the real server; the real server unwraps it on tunl0, sees the VIP and answers the client directly."),
            format!("TUN：{h} 给报文加上发往 RS 的新 IP 头；RS 在 tunl0 上解封装，看到 VIP，直接回复客户端。"),
        )
    } else if has("DR") {
        lang.pick(
            format!("DR: {h} leaves the IP header as it is (client → VIP) and only sends the frame to the real server's MAC; the real server, holding the VIP on lo, answers the client directly."),
            format!("DR：{h} 不改 IP 头（客户端 → VIP），只把帧发往 RS 的 MAC；RS 在 lo 上持有 VIP，直接回复客户端。"),
        )
    } else {
        return None;
    };
    Some(s)
}

fn rewrite(h: &str, text: &str, before: &Frame, after: &Frame, lang: Lang) -> String {
    if let Some(s) = rewrite_by_name(h, text, lang) {
        return s;
    }
    let (b, a) = (before.ipv4(), after.ipv4());
    if let (Some(b), Some(a)) = (b, a) {
        if matches!(a.payload, IpPayload::Ipip(_)) && !matches!(b.payload, IpPayload::Ipip(_)) {
            return lang.pick(
                format!("TUN: {h} wraps the packet in a new IP header {} → {}; the real server unwraps it and sees the VIP.", a.src, a.dst),
                format!("TUN：{h} 给报文加上新的 IP 头 {} → {}；RS 解封装后看到的仍是 VIP。", a.src, a.dst),
            );
        }
        if b.dst != a.dst || b.ports().map(|p| p.1) != a.ports().map(|p| p.1) {
            return lang.pick(
                format!("NAT: {h} rewrites the destination {} → {} (DNAT); the reply must come back through {h} to be rewritten back.", b.dst, a.dst),
                format!("NAT：{h} 把目标地址 {} 改写为 {}（DNAT）；响应必须经过 {h} 再改写回来。", b.dst, a.dst),
            );
        }
        if b.src != a.src || b.ports().map(|p| p.0) != a.ports().map(|p| p.0) {
            return lang.pick(
                format!("NAT reply: {h} rewrites the source {} → {} so the client sees the address it called (the VIP).", b.src, a.src),
                format!("NAT 响应：{h} 把源地址 {} 改写为 {}，客户端看到的是它访问的地址（VIP）。", b.src, a.src),
            );
        }
    }
    if before.dst != after.dst {
        return lang.pick(
            format!("DR: {h} changes only the destination MAC ({} → {}); the IP header still says client → VIP, so the real server answers the client directly.", before.dst, after.dst),
            format!("DR：{h} 只改写目标 MAC（{} → {}）；IP 头仍是 客户端 → VIP，所以 RS 直接回复客户端。", before.dst, after.dst),
        );
    }
    lang.pick(
        format!("{h} rewrites the packet."),
        format!("{h} 改写了报文。"),
    )
}

fn command(h: &str, cmd: &str, note: &str, lang: Lang) -> String {
    let tail = if note.is_empty() {
        String::new()
    } else {
        format!(" ({note})")
    };
    lang.pick(
        format!("On {h} someone types `{cmd}`{tail}."),
        format!("在 {h} 上执行 `{cmd}`{tail}。"),
    )
}

/// keepalived log lines worth explaining: (words in the line, English,
/// Chinese). The first match wins.
const KEEPALIVED: [(&[&str], &str, &str); 12] = [
    (
        &["PRIORITY 0"],
        "the master is leaving (priority-0 advert): the backup takes over after only its skew time, without waiting three intervals.",
        "MASTER 正在退出（优先级 0 通告）：BACKUP 只需等待偏移时间即可接管，不必等三个通告周期。",
    ),
    (
        &["ADVERTISEMENT TIMEOUT"],
        "no advert from the master for 3×advert_int plus skew: this backup now becomes master.",
        "在 3×advert_int 加偏移时间内没有收到 MASTER 的通告：本机由 BACKUP 转为 MASTER。",
    ),
    (
        &["ENTERING MASTER"],
        "it becomes MASTER: it adds the VIP to its NIC and sends gratuitous ARP so every neighbour sends VIP traffic here.",
        "成为 MASTER：把 VIP 加到网卡上，并发送免费 ARP，让所有邻居把发往 VIP 的流量送到这里。",
    ),
    (
        &["ENTERING BACKUP"],
        "it is BACKUP: it listens for the master's adverts and does not hold the VIP.",
        "处于 BACKUP：监听 MASTER 的通告，不持有 VIP。",
    ),
    (
        &["ENTERING FAULT"],
        "FAULT: a tracked interface or script failed, so it gives up the VIP.",
        "FAULT：被跟踪的接口或脚本失败，因此放弃 VIP。",
    ),
    (
        &["HIGHER PRIORITY"],
        "a master heard a higher-priority advert: it steps down to backup.",
        "MASTER 收到更高优先级的通告：退回 BACKUP。",
    ),
    (
        &["LOWER PRIORITY"],
        "a master heard a lower-priority advert: it answers with its own advert to win the election.",
        "MASTER 收到更低优先级的通告：发送自己的通告以赢得选举。",
    ),
    (
        &["GRATUITOUS"],
        "gratuitous ARP for the VIP: hosts and switches learn which MAC the VIP is at now.",
        "为 VIP 发送免费 ARP：主机和交换机据此得知 VIP 现在对应哪个 MAC。",
    ),
    (
        &["REMOVING"],
        "a health check failed: keepalived takes the real server out of the IPVS table, so no new connection goes there.",
        "健康检查失败：keepalived 把该 RS 从 IPVS 表中摘除，新连接不再发往它。",
    ),
    (
        &["ADDING"],
        "the health check passes: keepalived puts the real server into the IPVS table.",
        "健康检查通过：keepalived 把该 RS 加入 IPVS 表。",
    ),
    (
        &["STOP"],
        "keepalived stops: a master sends a priority-0 advert and removes the VIP.",
        "keepalived 停止：MASTER 发送优先级 0 的通告并删除 VIP。",
    ),
    (
        &["QUORUM"],
        "the number of healthy real servers crossed the quorum: the virtual service is switched accordingly.",
        "健康 RS 的数量越过了 quorum 阈值：虚拟服务随之切换。",
    ),
];

fn keepalived(h: &str, text: &str, lang: Lang) -> String {
    let t = text.to_ascii_uppercase();
    let why = KEEPALIVED
        .iter()
        .find(|(words, _, _)| words.iter().all(|w| t.contains(w)))
        .map(|(_, en, zh)| lang.pick(*en, *zh));
    match why {
        Some(w) => lang.pick(
            format!("keepalived on {h}: {text} — {w}"),
            format!("{h} 上的 keepalived：{text}——{w}"),
        ),
        None => lang.pick(
            format!("keepalived on {h}: {text}"),
            format!("{h} 上的 keepalived：{text}"),
        ),
    }
}
