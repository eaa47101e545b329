#include "common/http/serve.h"

#include <spdlog/spdlog.h>

#include <thread>

namespace helix {

SignalWaiter::SignalWaiter(bool hup) {
  sigemptyset(&set_);
  sigaddset(&set_, SIGTERM);
  sigaddset(&set_, SIGINT);
  if (hup) sigaddset(&set_, SIGHUP);
  pthread_sigmask(SIG_BLOCK, &set_, nullptr);
}

SignalWaiter::~SignalWaiter() { pthread_sigmask(SIG_UNBLOCK, &set_, nullptr); }

int SignalWaiter::Wait() const {
  int sig = 0;
  sigwait(&set_, &sig);
  return sig;
}

void SignalWaiter::Interrupt(pthread_t thread) const { pthread_kill(thread, SIGTERM); }

int ServeUntilSignal(PluginServer& server, const SignalWaiter& signals,
                     const std::function<Status()>& start_up, const std::function<void()>& on_hup) {
  if (auto s = server.Listen(); !s.ok()) {
    spdlog::critical("{}", s.error().message());
    return 1;
  }
  std::thread serving([&server] { server.Serve(); });
  std::thread waiter([&] {
    for (;;) {
      const int sig = signals.Wait();
      if (sig == SIGHUP && on_hup) {
        on_hup();
        continue;
      }
      spdlog::info("signal {}: stopping", sig);
      server.Stop();
      return;
    }
  });
  Status started = start_up ? start_up() : Ok();
  if (!started.ok()) {
    spdlog::critical("start-up failed: {}", started.error().message());
    server.Stop();
    serving.join();
    // Joined, never detached: a waiter left in sigwait would outlive `signals`
    // and `server` and take whatever signal later arrives (in a test binary,
    // the SIGCHLD of an unrelated child) to stop a server that is gone.
    signals.Interrupt(waiter.native_handle());
    waiter.join();
    return 1;
  }
  server.SetReady();
  serving.join();
  // Serve returned because of a signal (the waiter is done) or an error.
  signals.Interrupt(waiter.native_handle());
  waiter.join();
  spdlog::info("stopped");
  return 0;
}

}  // namespace helix
