# Planted leak: an instance attribute that is a dict (service.pending) keeps
# every request. On 3.11+ the instance's attributes may be inline values, so
# the dump must name the edge by attribute ('pending'), not call the lone
# dict among the referents the instance's __dict__.
class Request:
    def __init__(self, i):
        self.body = bytearray(200)
        self.number = i


class Service:
    def __init__(self):
        self.pending = {}
        self.name = "billing"

    def submit(self, i):
        self.pending[i] = Request(i)


service = Service()
for i in range(2000):
    service.submit(i)
