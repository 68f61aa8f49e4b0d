"""What the tests share: fakes typed to the ports, test doubles of outside servers, stacks,
files and corpora that the tests make."""
