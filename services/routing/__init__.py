"""Routing: assigns conversations to operators by skill and availability (issue #4).

Built so far: the pure domain (``domain/``): the decision, the queue, the
widening ladder and one shop's state. The Faust stream processor around it is
still to come.
"""
