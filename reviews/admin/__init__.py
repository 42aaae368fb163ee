"""The reviewer workspace in the Django admin, by subject:

- queue: the review queue, the version's review page and its buttons (claim, ask, decide);
- filters: the queue's filters (claim, consent, waiting time);
- checklist: the review checklist (leads edit it) and the decision e-mails.
"""

from reviews.admin import checklist, queue  # noqa: F401 -- registers the admin classes


def reviewer_landing(index_view):
    """The admin's front page for reviewers who may see the review queue is the queue (superusers
    keep the index).

    `?index=1` still shows the index (its link in the queue's breadcrumbs keeps working).
    """
    from functools import wraps

    from django.shortcuts import redirect

    from marketplace.permissions import is_reviewer

    @wraps(index_view)
    def view(request, extra_context=None):
        user = request.user
        may_see_queue = is_reviewer(user) and user.has_perm("reviews.view_reviewqueueversion")
        if may_see_queue and not user.is_superuser and "index" not in request.GET:
            return redirect("admin:reviews_reviewqueueversion_changelist")
        return index_view(request, extra_context)

    return view
