# nntpd-control.ctl: what nntpd does with newgroup, rmgroup and checkgroups
# control messages (control_file in nntpd.conf), in INN's control.ctl form:
#
#   message:from:newsgroups:action
#
# message      newgroup, rmgroup, checkgroups, or all
# from         wildmat matched against the sender's address (From, or
#              Sender when there is one), lower-cased
# newsgroups   wildmat matched against the group the message names
#              (checkgroups: the first group of its Newsgroups header)
# action       doit      act on it (newgroup and rmgroup, with the code
#                        nntpctl newgroup and rmgroup use) and log it
#              doit=FILE the same (FILE is not used: everything goes to
#                        nntpd's log)
#              log, log=FILE, mail
#                        log it only
#              drop      nothing, not even a log line
#
# The last matching line wins; a message no line matches is logged only.
# checkgroups is never acted on, whatever the action: it is logged. Every
# control message is filed in control.newgroup, control.rmgroup,
# control.checkgroups, control.cancel (or control for other types) and fed
# on to peers as any article, whatever is done with it here. Cancels are
# governed by cancel_policy and Cancel-Lock, not by this file.
#
# The default: log every one, act on none.
all:*:*:log

# Examples: a hierarchy administered by one address, another ignored.
#newgroup:admin@example.org:example.*:doit
#rmgroup:admin@example.org:example.*:doit
#all:*:alt.*:drop
