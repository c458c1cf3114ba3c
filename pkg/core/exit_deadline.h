/*
 * exit_deadline.h - a bound on how long a stopping worker may take.
 *
 * A worker that stops closes its Kafka clients, and librdkafka 2.0.2's
 * rd_kafka_destroy() can wait without end for a broker that went away.
 * flowsift-filter and flowsift-report were seen still running 40 s after
 * SIGTERM, at about 20% CPU, after the broker stopped with them.  A worker arms the
 * deadline when it starts to stop.  If it is still running when the
 * deadline passes, a background thread logs one error and ends the process
 * with status 1.  Offsets not committed by then are consumed again at the
 * next start, as after a crash.
 */
#ifndef FS_CORE_EXIT_DEADLINE_H
#define FS_CORE_EXIT_DEADLINE_H

/*
 * Seconds a worker may take to stop: above the sum of its own bounds
 * (10 s to flush the producer, 10 s to leave the consumer group, and the
 * Redis timeouts of flowsift-report).
 */
#define FS_EXIT_DEADLINE_S 60

/*
 * Starts a detached thread that logs an error under facility and calls
 * _exit(1) when the process is still running seconds from now (at least
 * 1).  facility is borrowed and must stay valid (a string literal).  Call it
 * once per process.  Returns 0, or -1 when the thread cannot be started
 * (logged), in which case the process has no deadline.
 */
int fs_exit_deadline_arm(const char *facility, unsigned seconds);

#endif
