// Socket helpers shared by the servers (teacher-sim, serve).
#pragma once

namespace af {

/// Gives the listening socket bound to `port` a backlog of 1024. cpp-httplib 0.11 listens with a backlog of
/// 5 (compiled into Debian's library): a burst of concurrent clients overflows it and the kernel makes the
/// extra ones wait a full second for a SYN-ACK retransmit. Linux lets a listening socket be given a new
/// backlog by calling listen() again, so find ours and do that.
void widen_listen_backlog(int port);

/// The options a server's listening socket gets (httplib's set_socket_options): SO_REUSEADDR only. httplib's
/// default also sets SO_REUSEPORT, which lets a second server bind a port already in use and share its
/// connections, instead of being told the port is taken.
void reuse_address_only(int socket);

}  // namespace af
