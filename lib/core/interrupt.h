// Ctrl-C and SIGTERM as a request to stop at the next safe point (exit 130 with a resumable state), not a
// kill.
#pragma once

namespace af {

/// Installs SIGINT/SIGTERM handlers that only set a flag; a second signal exits at once (status 130).
void install_interrupt_handlers();
/// True once SIGINT or SIGTERM arrived.
bool interrupt_requested();
/// Throws an interrupted error (exit 130) saying `what_is_saved` when an interrupt was requested.
void throw_if_interrupted(const char* what_is_saved);

}  // namespace af
